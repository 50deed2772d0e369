import { Link } from 'react-router';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { paths } from '@/lib/paths';

interface NotFoundProps {
  title?: string;
  message?: string;
  linkTo?: string;
  linkLabel?: string;
  /** Sets the document title (off when embedded in a page that sets its own). */
  setTitle?: boolean;
}

/** "Not found" content with a way back; the default is the app's 404 page. */
export function NotFound({
  title = 'Page not found',
  message = 'Sorry, there is nothing at this address. It may have moved, or the link may be mistyped.',
  linkTo = paths.shop,
  linkLabel = 'Go to the shop',
  setTitle = true,
}: NotFoundProps) {
  return (
    <section className="text-center py-5 px-3" aria-labelledby="not-found-title">
      {setTitle ? <NotFoundTitle title={title} /> : null}
      <p className="display-3 fw-bold text-body-tertiary mb-2" aria-hidden="true">
        404
      </p>
      <h1 id="not-found-title" className="h2">
        {title}
      </h1>
      <p className="text-body-secondary mx-auto mb-4 not-found-text">{message}</p>
      <Link className="btn btn-primary" to={linkTo}>
        {linkLabel}
      </Link>
    </section>
  );
}

function NotFoundTitle({ title }: { title: string }) {
  useDocumentTitle(title);
  return null;
}

/** The page for any unknown path. */
export function NotFoundPage() {
  return <NotFound />;
}
