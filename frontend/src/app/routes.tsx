import { Navigate, type RouteObject } from 'react-router';
import { AppLayout } from '@/components/layout/AppLayout';
import { NotFoundPage } from '@/components/NotFound';
import { RouteErrorPage } from '@/components/RouteErrorPage';
import { CreateProductPage, EditProductRoute, ProductListPage } from '@/features/catalogue';
import { GalleryPage } from '@/features/gallery';

export const routes: RouteObject[] = [
  {
    element: <AppLayout />,
    errorElement: <RouteErrorPage />,
    children: [
      { index: true, element: <GalleryPage /> },
      { path: 'admin', element: <Navigate to="/admin/products" replace /> },
      { path: 'admin/products', element: <ProductListPage /> },
      { path: 'admin/products/create', element: <CreateProductPage /> },
      { path: 'admin/products/:id/edit', element: <EditProductRoute /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];
