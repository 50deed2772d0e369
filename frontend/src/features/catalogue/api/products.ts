import { api, ApiError, expectShape } from '@/lib/api-client';
import { isRecord } from '@/lib/guards';
import { isProduct, isProductList, type Product } from '@/lib/product';

// admin-svc's /api/products: the catalogue's CRUD.

const BASE = '/api/products';

/** What the admin sends on create and update (never `likes`, which is read-only). */
export interface ProductInput {
  title: string;
  image: string;
}

export function isProductInput(value: unknown): value is ProductInput {
  return isRecord(value) && typeof value.title === 'string' && typeof value.image === 'string';
}

function productPath(id: number | string): string {
  return `${BASE}/${encodeURIComponent(String(id))}`;
}

/** One numbered page of the catalogue and the number of products matching its search. */
export interface ProductPage {
  products: Product[];
  total: number;
}

/**
 * GET /api/products?q=&sort=&page=&per_page=: one numbered page (`[]` past the end) and
 * the `X-Total-Count` header. `search` is the query string, from `apiSearch` (list-query.ts).
 */
export async function listProductPage(search: string, signal?: AbortSignal): Promise<ProductPage> {
  const { body, headers } = await api.getWithHeaders<unknown>(`${BASE}${search}`, signal);
  const products = expectShape(body, isProductList, 'product list');
  const header = headers.get('X-Total-Count')?.trim() ?? '';
  const total = /^\d+$/.test(header) ? Number(header) : Number.NaN;
  if (!Number.isSafeInteger(total)) {
    throw new ApiError({
      kind: 'invalid-response',
      status: 200,
      message: 'The server sent a product page without its total (X-Total-Count).',
    });
  }
  return { products, total };
}

/** GET /api/products/{id}: 404 when there is no such product. */
export async function getProduct(id: number | string, signal?: AbortSignal): Promise<Product> {
  return expectShape(await api.get<unknown>(productPath(id), signal), isProduct, 'product');
}

/** POST /api/products: 201 with the product; 400 with field errors. */
export async function createProduct(input: ProductInput): Promise<Product> {
  const body: ProductInput = { title: input.title, image: input.image };
  return expectShape(await api.post<unknown>(BASE, body), isProduct, 'product');
}

/** PUT /api/products/{id}: 202 with the product; 400 field errors; 404. */
export async function updateProduct(id: number | string, input: ProductInput): Promise<Product> {
  const body: ProductInput = { title: input.title, image: input.image };
  return expectShape(await api.put<unknown>(productPath(id), body), isProduct, 'product');
}

/** DELETE /api/products/{id}: 204; 404 when it was already gone. */
export async function deleteProduct(id: number | string): Promise<void> {
  await api.delete(productPath(id));
}
