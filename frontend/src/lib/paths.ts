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
  admin: '/admin',
  products: '/admin/products',
  createProduct: '/admin/products/create',
  /** A pattern: link to it with {@link editProductPath}. */
  editProduct: '/admin/products/:id/edit',
} as const;

/** The edit page of one product. */
export function editProductPath(id: number | string): string {
  return paths.editProduct.replace(':id', encodeURIComponent(String(id)));
}
