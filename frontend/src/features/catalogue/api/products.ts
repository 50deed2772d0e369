import { api, ApiError, expectShape, isApiError } from '@/lib/api-client';
import { isArrayOf, isRecord } from '@/lib/guards';
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

/** A product and its version as read: the `ETag` (`"N"`) to send back as `If-Match`. */
export interface VersionedProduct {
  product: Product;
  /** The `ETag` header as sent, or null from an admin-svc that sends none. */
  etag: string | null;
}

/** The version N of an `ETag: "N"`, or null when it is not one. */
export function etagVersion(etag: string | null): number | null {
  const match = /^"(\d+)"$/.exec(etag?.trim() ?? '');
  return match ? Number(match[1]) : null;
}

/** GET /api/products/{id} with its `ETag`: 404 when there is no such product. */
export async function getVersionedProduct(id: number | string, signal?: AbortSignal): Promise<VersionedProduct> {
  const { body, headers } = await api.getWithHeaders<unknown>(productPath(id), signal);
  return { product: expectShape(body, isProduct, 'product'), etag: headers.get('ETag') };
}

/**
 * PUT /api/products/{id}: 202 with the product (and its new `ETag`); 400 field errors; 404.
 * With `ifMatch` (the `ETag` the form was loaded with) a product changed meanwhile is left
 * as it is and the answer is 412 (see {@link readConflict}).
 */
export async function updateProduct(id: number | string, input: ProductInput, ifMatch?: string | null): Promise<Product> {
  const body: ProductInput = { title: input.title, image: input.image };
  const headers = ifMatch ? { 'If-Match': ifMatch } : undefined;
  const answer = await api.request<unknown>(productPath(id), { method: 'PUT', body, headers });
  return expectShape(answer.body, isProduct, 'product');
}

/** The product as it is now, from a 412 `{"error", "product": {…}}` with its `ETag`; null for any other error. */
export function readConflict(error: unknown): VersionedProduct | null {
  if (!isApiError(error) || error.status !== 412 || !isRecord(error.body) || !isProduct(error.body.product)) return null;
  return { product: error.body.product, etag: error.headers.get('ETag') };
}

export type BulkOutcome = 'deleted' | 'not_found';

export interface BulkDeleteResult {
  deleted: number;
  not_found: number;
  /** One per id, in the order sent. */
  results: { id: number; outcome: BulkOutcome }[];
}

const isBulkResult = (v: unknown): v is BulkDeleteResult['results'][number] =>
  isRecord(v) && typeof v.id === 'number' && (v.outcome === 'deleted' || v.outcome === 'not_found');

function isBulkDeleteResult(value: unknown): value is BulkDeleteResult {
  return (
    isRecord(value) &&
    typeof value.deleted === 'number' &&
    typeof value.not_found === 'number' &&
    isArrayOf(isBulkResult)(value.results)
  );
}

/**
 * POST /api/products/bulk-delete `{"ids"}`: one transaction; 200 with each id's outcome
 * (`deleted`, or `not_found` when it was already gone); 400 `{"ids": […]}`.
 */
export async function bulkDeleteProducts(ids: number[]): Promise<BulkDeleteResult> {
  return expectShape(await api.post<unknown>(`${BASE}/bulk-delete`, { ids }), isBulkDeleteResult, 'bulk delete answer');
}

/** DELETE /api/products/{id}: 204; 404 when it was already gone. */
export async function deleteProduct(id: number | string): Promise<void> {
  await api.delete(productPath(id));
}
