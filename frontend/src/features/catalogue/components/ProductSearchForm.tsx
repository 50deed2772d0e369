import { type FormEvent, useId, useState } from 'react';
import { MAX_QUERY_LENGTH } from '../list-query';

interface ProductSearchFormProps {
  /** The search in the URL (what the table shows). */
  q: string;
  onSearch: (q: string) => void;
}

/**
 * The search box over the table. It searches when submitted (Enter or the Search button),
 * as Django's admin does, not while typing: each search is one request and one history
 * entry, and the table does not change under the admin (or a screen reader) mid-word.
 * Back, Forward or a link changing `q` puts that search in the box.
 */
export function ProductSearchForm({ q, onSearch }: ProductSearchFormProps) {
  const id = useId();
  const [draft, setDraft] = useState(q);
  // The URL's search changed (Back, a link): show it, dropping what was typed.
  const [shownQ, setShownQ] = useState(q);
  if (shownQ !== q) {
    setShownQ(q);
    setDraft(q);
  }

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onSearch(draft);
  }

  return (
    <form role="search" aria-label="Product search" className="d-flex gap-2 flex-grow-1 product-search" onSubmit={handleSubmit}>
      <label htmlFor={id} className="visually-hidden">
        Search products
      </label>
      <input
        id={id}
        type="search"
        className="form-control"
        placeholder="Search by title"
        value={draft}
        maxLength={MAX_QUERY_LENGTH}
        onChange={(event) => setDraft(event.target.value)}
        autoComplete="off"
        spellCheck={false}
      />
      <button type="submit" className="btn btn-outline-primary">
        Search
      </button>
    </form>
  );
}
