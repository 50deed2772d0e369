import { Navigate, type RouteObject } from 'react-router';
import { AppLayout } from '@/components/layout/AppLayout';
import { NotFoundPage } from '@/components/NotFound';
import { RouteErrorPage } from '@/components/RouteErrorPage';
import { AccountPage, SetPasswordPage } from '@/features/account';
import { AccountsRoute } from '@/features/accounts';
import { AuditPage, ProductHistoryRoute, RecentActionsPanel } from '@/features/audit';
import { AdminArea, LoginPage } from '@/features/auth';
import { CreateProductPage, EditProductRoute, ProductListPage } from '@/features/catalogue';
import { GalleryPage } from '@/features/gallery';
import { TokensPage } from '@/features/tokens';
import { paths } from '@/lib/paths';

export const routes: RouteObject[] = [
  {
    errorElement: <RouteErrorPage />,
    children: [
      {
        // Public: the shop, the sign-in page, a one-time link's page, the 404 page. Nothing
        // here asks who is signed in.
        element: <AppLayout />,
        children: [
          { path: paths.shop, element: <GalleryPage /> },
          { path: paths.login, element: <LoginPage /> },
          { path: paths.setPassword, element: <SetPasswordPage /> },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
      {
        // Signed in (an admin or a viewer: the pages show a viewer only what it may do), or
        // sent to the sign-in page and back.
        element: <AdminArea />,
        children: [
          { path: paths.admin, element: <Navigate to={paths.products} replace /> },
          {
            path: paths.products,
            element: <ProductListPage aside={(changes) => <RecentActionsPanel refreshKey={changes} />} />,
          },
          { path: paths.createProduct, element: <CreateProductPage /> },
          { path: paths.editProduct, element: <EditProductRoute /> },
          { path: paths.productHistory, element: <ProductHistoryRoute /> },
          { path: paths.audit, element: <AuditPage /> },
          { path: paths.accounts, element: <AccountsRoute /> },
          { path: paths.tokens, element: <TokensPage /> },
          { path: paths.account, element: <AccountPage /> },
        ],
      },
    ],
  },
];
