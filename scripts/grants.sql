-- The database users of one service, each with only its own rights
-- (docs/operating/security.md, "Database users"). scripts/run-local.sh and the tests
-- (testkit::db::ServiceUsers) run this file.
--   {database}           the service's database (admin or main), with _ and % escaped
--                        (\_ \%): in GRANT they would be wildcards
--   {api_user}           its API: applies the migrations (DDL) and reads and writes rows
--   {consumer_user}      its consumer: reads and writes rows of its own tables, no DDL
--   {..._password}       their passwords
-- Neither user has any right on the other service's database.
-- The audit log's database ({database}_audit; admin-svc's, main-svc has none) is
-- append-only for the API: it may create its table, read and insert, never update or
-- delete, so a compromised API cannot rewrite history. The consumer deletes records past
-- AUDIT_RETENTION_DAYS (docs/operating/security.md, "Database users").
CREATE USER IF NOT EXISTS '{api_user}'@'%' IDENTIFIED BY '{api_password}';
ALTER USER '{api_user}'@'%' IDENTIFIED BY '{api_password}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON `{database}`.* TO '{api_user}'@'%';
GRANT SELECT, INSERT, CREATE ON `{database}\_audit`.* TO '{api_user}'@'%';
CREATE USER IF NOT EXISTS '{consumer_user}'@'%' IDENTIFIED BY '{consumer_password}';
ALTER USER '{consumer_user}'@'%' IDENTIFIED BY '{consumer_password}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `{database}`.* TO '{consumer_user}'@'%';
GRANT SELECT, DELETE ON `{database}\_audit`.* TO '{consumer_user}'@'%';
