import type { MockReply } from './mock-fetch';

/** The request of the admin product table at its defaults (newest first, 25 a page). */
export const FIRST_PRODUCT_PAGE = 'GET /api/products?sort=-id&page=1&per_page=25';

/** A numbered page of admin-svc's catalogue: the products and `X-Total-Count`. */
export function productPage(products: unknown[], total: number = products.length): MockReply {
  return { json: products, headers: { 'X-Total-Count': String(total) } };
}
