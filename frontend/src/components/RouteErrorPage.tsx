import { isRouteErrorResponse, Link, useRouteError } from 'react-router';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { paths } from '@/lib/paths';
import { NotFound } from './NotFound';

/** Shown when rendering a route throws: the app keeps its frame and offers a way out. */
export function RouteErrorPage() {
  const error = useRouteError();
  useDocumentTitle('Something went wrong');
  if (isRouteErrorResponse(error) && error.status === 404) return <NotFound />;
  return (
    <div className="container py-5">
      <div className="alert alert-danger" role="alert">
        <h1 className="h4">Something went wrong</h1>
        <p>The page could not be shown. Reloading usually helps.</p>
        <div className="d-flex gap-2">
          <a className="btn btn-danger" href={window.location.pathname}>
            Reload
          </a>
          <Link className="btn btn-outline-danger" to={paths.shop}>
            Go to the shop
          </Link>
        </div>
      </div>
    </div>
  );
}
