import { api, expectShape } from '@/lib/api-client';
import { isProductList, type Product } from '@/lib/product';

/** GET /flask/api/products: the shop's mirror of the catalogue, ordered by id. */
export async function getShopProducts(signal?: AbortSignal): Promise<Product[]> {
  const body = await api.get<unknown>('/flask/api/products', signal);
  return expectShape(body, isProductList, 'product list');
}
