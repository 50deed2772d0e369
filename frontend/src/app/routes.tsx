import { Navigate, type RouteObject } from 'react-router';
import { AppLayout } from '@/components/layout/AppLayout';
import { NotFoundPage } from '@/components/NotFound';
import { RouteErrorPage } from '@/components/RouteErrorPage';
import { CreateProductPage, EditProductRoute, ProductListPage } from '@/features/catalogue';
import { GalleryPage } from '@/features/gallery';
import { paths } from '@/lib/paths';

export const routes: RouteObject[] = [
  {
    element: <AppLayout />,
    errorElement: <RouteErrorPage />,
    children: [
      { path: paths.shop, element: <GalleryPage /> },
      { path: paths.admin, element: <Navigate to={paths.products} replace /> },
      { path: paths.products, element: <ProductListPage /> },
      { path: paths.createProduct, element: <CreateProductPage /> },
      { path: paths.editProduct, element: <EditProductRoute /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];
