import { api, expectShape } from '@/lib/api-client';
import { isShopProductList, type ShopProduct } from './types';

/** GET /flask/api/products: the shop's mirror of the catalogue, ordered by id. */
export async function getShopProducts(signal?: AbortSignal): Promise<ShopProduct[]> {
  const body = await api.get<unknown>('/flask/api/products', signal);
  return expectShape(body, isShopProductList, 'product list');
}
