/** A catalogue product as admin-svc returns it. `likes` is read-only. */
export interface Product {
  id: number;
  title: string;
  image: string;
  likes: number;
}

/** What the admin sends on create and update (never `likes`). */
export interface ProductInput {
  title: string;
  image: string;
}

export function isProduct(value: unknown): value is Product {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'number' &&
    typeof v.title === 'string' &&
    typeof v.image === 'string' &&
    typeof v.likes === 'number'
  );
}

export function isProductList(value: unknown): value is Product[] {
  return Array.isArray(value) && value.every(isProduct);
}
