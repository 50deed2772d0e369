import { api, expectShape } from '@/lib/api-client';
import { isRecord } from '@/lib/guards';
import { isProductList, type Product } from '@/lib/product';

// main-svc's /flask/api/products: what the gallery reads and the likes it sends.

const BASE = '/flask/api/products';

/** The gallery's page size: 48 cards fill whole rows of 1, 2, 3 or 4 columns. */
export const PAGE_SIZE = 48;

export interface PageQuery {
  /** The search as typed; blank means every product. */
  q: string;
  /** The id the page starts after (0: from the first product). */
  after: number;
  limit?: number;
}

export interface ShopPage {
  products: Product[];
  /** The `after` of the next page, or null when this page is the last one. */
  next: number | null;
}

/** The query string of a page request, in the API's own order (q, limit, after). */
export function pageUrl({ q, after, limit = PAGE_SIZE }: PageQuery): string {
  const params = new URLSearchParams();
  if (q.trim() !== '') params.set('q', q.trim());
  params.set('limit', String(limit));
  if (after > 0) params.set('after', String(after));
  return `${BASE}?${params.toString()}`;
}

/**
 * The `after` of a `Link` header's `rel="next"` URL: undefined without one (the last page),
 * null when the header names a next page whose `after` cannot be read.
 */
export function nextAfterFromLink(link: string | null): number | null | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (!match) continue;
    const rels = (match[2] ?? '')
      .split(';')
      .map((param) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param)?.[1] ?? '')
      .flatMap((value) => value.toLowerCase().split(/\s+/));
    if (!rels.includes('next')) continue;
    const after = new URL(match[1] ?? '', 'https://site.invalid').searchParams.get('after');
    const id = after === null || after === '' ? NaN : Number(after);
    return Number.isSafeInteger(id) && id >= 0 ? id : null;
  }
  return undefined;
}

/**
 * One keyset page of GET /flask/api/products?q=&limit=&after=. The server sends
 * `Link: <…after=LASTID>; rel="next"` unless the page is the last one; the next page starts
 * after that id (or after the page's last id if the link cannot be read).
 */
export async function listShopPage(query: PageQuery, signal?: AbortSignal): Promise<ShopPage> {
  const { body, headers } = await api.getWithHeaders<unknown>(pageUrl(query), signal);
  const products = expectShape(body, isProductList, 'product list');
  const next = nextAfterFromLink(headers.get('Link'));
  if (next === undefined || products.length === 0) return { products, next: null };
  return { products, next: next ?? products[products.length - 1]!.id };
}

/** GET /flask/api/products/events: the shop's live like counts (Server-Sent Events). */
export const PRODUCT_EVENTS_URL = `${BASE}/events`;

export interface LikeCount {
  id: number;
  likes: number;
}

/** The data of an `event: likes`: `[{"id": 12, "likes": 40}, …]`. */
export function isLikeCountList(value: unknown): value is LikeCount[] {
  return (
    Array.isArray(value) &&
    value.every((item) => isRecord(item) && Number.isSafeInteger(item.id) && Number.isSafeInteger(item.likes))
  );
}

/** main-svc's answer to a second like from the same shopper. */
export const ALREADY_LIKED_STATUS = 400;

/**
 * POST /flask/api/products/{id}/like. The shopper is the `shopper_id` cookie main-svc sets
 * on the first like (sent along because requests are same-origin).
 * Rejects with an ApiError: 400 already liked, 404 product gone, 5xx/0 failures.
 */
export async function likeProduct(id: number): Promise<void> {
  await api.post<{ message?: string }>(`${BASE}/${encodeURIComponent(String(id))}/like`);
}

function isIdList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((id) => Number.isSafeInteger(id));
}

/**
 * GET /flask/api/likes: the ids of the products this shopper (the `shopper_id` cookie) has
 * liked, so the gallery shows them liked from its first paint. `[]` for a new shopper.
 */
export async function listMyLikes(signal?: AbortSignal): Promise<number[]> {
  return expectShape(await api.get<unknown>('/flask/api/likes', signal), isIdList, 'liked ids');
}
