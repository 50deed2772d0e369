/**
 * Every page's path, written once: the router's patterns (`src/app/routes.tsx`) and every
 * link, redirect and navigation in features and shared components come from here.
 *
 * It lives in `lib/` (the bottom layer) rather than `app/` because features and shared
 * components (the navbar, the 404 page) need the paths too, and imports only flow
 * app → features → shared.
 */
export const paths = {
  shop: '/',
  /** The admin sign-in page; link to it with {@link loginPath} to come back afterwards. */
  login: '/login',
  admin: '/admin',
  products: '/admin/products',
  createProduct: '/admin/products/create',
  /** A pattern: link to it with {@link editProductPath}. */
  editProduct: '/admin/products/:id/edit',
  /** A pattern: link to it with {@link productHistoryPath}. */
  productHistory: '/admin/products/:id/history',
  /** The audit log ("Recent actions"), filterable. */
  audit: '/admin/audit',
  /** Admins only: accounts, their roles and one-time sign-in links. */
  accounts: '/admin/accounts',
  /** API tokens: one's own (an admin: everyone's). */
  tokens: '/admin/tokens',
  /** One's own password and sessions (any role; signed in). */
  account: '/account',
  /** Public: a one-time link's page (`/set-password#<token>`) to set one's password. */
  setPassword: '/set-password',
} as const;

/** The edit page of one product. */
export function editProductPath(id: number | string): string {
  return paths.editProduct.replace(':id', encodeURIComponent(String(id)));
}

/** The change history of one product. */
export function productHistoryPath(id: number | string): string {
  return paths.productHistory.replace(':id', encodeURIComponent(String(id)));
}

/** Where a signed-in admin goes when no other page was asked for. */
export const DEFAULT_AFTER_LOGIN = paths.products;

/** The sign-in page, coming back to `next` (a path of this site) after signing in. */
export function loginPath(next?: string): string {
  const safe = next === undefined ? null : safeNextPath(next);
  return safe === null ? paths.login : `${paths.login}?next=${encodeURIComponent(safe)}`;
}

// Any page of this site, for resolving `next` against; never contacted.
const SITE = 'https://site.invalid';

/**
 * `next` as a path of this site (path, query and fragment), or null when it is anything
 * else: only a single `/` start is accepted, so `//evil.example`, `/\evil.example`,
 * `https://evil.example` and `javascript:…` are refused (no open redirect). It is resolved
 * the way a browser would (which drops tabs and newlines and reads `\` as `/`) and must stay
 * on this site; the sign-in page itself is refused too, so signing in never loops.
 */
export function safeNextPath(next: string | null | undefined): string | null {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  let url: URL;
  try {
    url = new URL(next, SITE);
  } catch {
    return null;
  }
  if (url.origin !== SITE) return null;
  if (url.pathname === paths.login) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}
