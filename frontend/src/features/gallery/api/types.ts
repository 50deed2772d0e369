/** A product as the shop front (main-svc) shows it; `likes` is the shop's own count. */
export interface ShopProduct {
  id: number;
  title: string;
  image: string;
  likes: number;
}

export function isShopProduct(value: unknown): value is ShopProduct {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'number' &&
    typeof v.title === 'string' &&
    typeof v.image === 'string' &&
    typeof v.likes === 'number'
  );
}

export function isShopProductList(value: unknown): value is ShopProduct[] {
  return Array.isArray(value) && value.every(isShopProduct);
}
