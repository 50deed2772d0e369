-- The admin table sorts the catalogue by title and by likes (ties broken by id): indexes, so
-- that a sorted page reads its rows in order rather than sorting the catalogue.
CREATE INDEX by_title ON products (title);
CREATE INDEX by_likes ON products (likes);
