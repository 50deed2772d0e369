import { api, expectShape } from '@/lib/api-client';
import { isProductList, type Product } from '@/lib/product';

// main-svc's /flask/api/products: what the gallery reads and the likes it sends.

const BASE = '/flask/api/products';

/** GET /flask/api/products: the shop's mirror of the catalogue, ordered by id. */
export async function listShopProducts(signal?: AbortSignal): Promise<Product[]> {
  return expectShape(await api.get<unknown>(BASE, signal), isProductList, 'product list');
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
