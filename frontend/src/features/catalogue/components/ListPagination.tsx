import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { type ListQuery, listHref, pageWindow } from '../list-query';

interface ListPaginationProps {
  /** The table's state; its `page` is the current page. */
  query: ListQuery;
  /** The number of pages (at least 1). */
  last: number;
}

/**
 * Page links under the table: first, previous, up to five numbered pages around the
 * current one, next and last. Real links to the table's URL (they open in a new tab);
 * the current page is `aria-current="page"`; those that lead nowhere are shown disabled.
 */
export function ListPagination({ query, last }: ListPaginationProps) {
  const current = query.page;
  const to = (page: number) => listHref({ ...query, page });
  return (
    <nav aria-label="Pages">
      <ul className="pagination flex-wrap mb-0">
        <Step label="First page" symbol="«" href={current > 1 ? to(1) : null} />
        <Step label="Previous page" symbol="‹" href={current > 1 ? to(Math.min(current - 1, last)) : null} />
        {pageWindow(current, last).map((page) => (
          <li key={page} className={`page-item${page === current ? ' active' : ''}`}>
            <Link
              to={to(page)}
              className="page-link"
              aria-label={`Page ${page}`}
              aria-current={page === current ? 'page' : undefined}
            >
              {page}
            </Link>
          </li>
        ))}
        <Step label="Next page" symbol="›" href={current < last ? to(current + 1) : null} />
        <Step label="Last page" symbol="»" href={current !== last ? to(last) : null} />
      </ul>
    </nav>
  );
}

function Step({ label, symbol, href }: { label: string; symbol: ReactNode; href: string | null }) {
  if (href === null) {
    return (
      <li className="page-item disabled">
        <span className="page-link">
          <span aria-hidden="true">{symbol}</span>
          <span className="visually-hidden">{label}</span>
        </span>
      </li>
    );
  }
  return (
    <li className="page-item">
      <Link to={href} className="page-link" aria-label={label}>
        <span aria-hidden="true">{symbol}</span>
      </Link>
    </li>
  );
}
