import { paths } from '@/lib/paths';

/**
 * What the admin's product table shows (search, sort, page, page size), kept in the page's
 * URL search params under the same names as admin-svc's numbered pages
 * (`GET /api/products?q=&sort=&page=&per_page=`), so a link shares, reloads and opens in a
 * new tab as the same table. Defaults are left out of the URL; anything unknown or out of
 * range in a hand-made URL reads as the default rather than failing.
 */

export const SORT_FIELDS = ['id', 'title', 'likes'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export type SortDirection = 'ascending' | 'descending';

/** `id`, `title`, `likes`, or the same with a leading `-` (descending), as the API takes it. */
export type ProductSort = SortField | `-${SortField}`;

export const PER_PAGE_OPTIONS = [25, 50, 100] as const;
export type PerPage = (typeof PER_PAGE_OPTIONS)[number];

/** The server's limit on `q` (longer is a 400). */
export const MAX_QUERY_LENGTH = 200;

export interface ListQuery {
  /** The search as typed (trimmed); '' for none. */
  q: string;
  sort: ProductSort;
  /** 1-based. */
  page: number;
  perPage: PerPage;
}

/**
 * Newest first, as Django's admin lists a model without an ordering (`-pk`): a product just
 * added is on the first page. The API's own default (`id`) is therefore always sent.
 */
export const DEFAULT_SORT: ProductSort = '-id';
export const DEFAULT_PER_PAGE: PerPage = 25;

export const DEFAULT_QUERY: ListQuery = { q: '', sort: DEFAULT_SORT, page: 1, perPage: DEFAULT_PER_PAGE };

function isProductSort(value: string): value is ProductSort {
  const field = value.startsWith('-') ? value.slice(1) : value;
  return (SORT_FIELDS as readonly string[]).includes(field);
}

function isPerPage(value: number): value is PerPage {
  return (PER_PAGE_OPTIONS as readonly number[]).includes(value);
}

/** A search as it is sent: trimmed and at most {@link MAX_QUERY_LENGTH} characters. */
export function normalizeSearch(q: string): string {
  return q.trim().slice(0, MAX_QUERY_LENGTH).trim();
}

/** The table's state from the page's search params. */
export function parseListQuery(params: URLSearchParams): ListQuery {
  const sort = params.get('sort') ?? '';
  const page = Number(params.get('page') ?? '');
  const perPage = Number(params.get('per_page') ?? '');
  return {
    q: normalizeSearch(params.get('q') ?? ''),
    sort: isProductSort(sort) ? sort : DEFAULT_SORT,
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
    perPage: isPerPage(perPage) ? perPage : DEFAULT_PER_PAGE,
  };
}

/** The page's search params for a state, defaults left out (`''` for the defaults). */
export function listSearch(query: ListQuery): string {
  const params = new URLSearchParams();
  const q = normalizeSearch(query.q);
  if (q !== '') params.set('q', q);
  if (query.sort !== DEFAULT_SORT) params.set('sort', query.sort);
  if (query.page !== 1) params.set('page', String(query.page));
  if (query.perPage !== DEFAULT_PER_PAGE) params.set('per_page', String(query.perPage));
  const search = params.toString();
  return search === '' ? '' : `?${search}`;
}

/** A link to the product table in a given state. */
export function listHref(query: ListQuery): string {
  return `${paths.products}${listSearch(query)}`;
}

/**
 * The API's query string for a state: always `sort`, `page` and `per_page` (so the answer is
 * a numbered page, never the whole catalogue), `q` only when there is a search.
 */
export function apiSearch(query: ListQuery): string {
  const params = new URLSearchParams();
  const q = normalizeSearch(query.q);
  if (q !== '') params.set('q', q);
  params.set('sort', query.sort);
  params.set('page', String(query.page));
  params.set('per_page', String(query.perPage));
  return `?${params.toString()}`;
}

/** The field and direction of a sort. */
export function sortParts(sort: ProductSort): { field: SortField; direction: SortDirection } {
  return sort.startsWith('-')
    ? { field: sort.slice(1) as SortField, direction: 'descending' }
    : { field: sort as SortField, direction: 'ascending' };
}

/**
 * The sort a click on a column header asks for: the other direction on the sorted column,
 * ascending on any other (as Django's admin does).
 */
export function toggledSort(current: ProductSort, field: SortField): ProductSort {
  const { field: sorted, direction } = sortParts(current);
  if (sorted !== field) return field;
  return direction === 'ascending' ? `-${field}` : field;
}

/** The number of pages for a total (at least 1, so an empty result is "page 1 of 1"). */
export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / perPage));
}

/**
 * The numbered pages to link around `current`: up to `around` on each side, widened at the
 * ends so the window keeps the same size where it can.
 */
export function pageWindow(current: number, last: number, around = 2): number[] {
  const size = 2 * around + 1;
  let start = Math.max(1, current - around);
  let end = Math.min(last, current + around);
  if (end - start + 1 < size) {
    if (start === 1) end = Math.min(last, start + size - 1);
    else if (end === last) start = Math.max(1, end - size + 1);
  }
  const pages: number[] = [];
  for (let page = start; page <= end; page++) pages.push(page);
  return pages;
}

const numberFormat = new Intl.NumberFormat('en-US');

/** 1234 as "1,234". */
export function formatCount(n: number): string {
  return numberFormat.format(n);
}

/** "1 product", "1,234 products". */
export function productCount(total: number): string {
  return `${formatCount(total)} ${total === 1 ? 'product' : 'products'}`;
}
