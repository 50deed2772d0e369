import { Link } from 'react-router';
import { useDocumentTitle } from '@/hooks/use-document-title';

interface AdminsOnlyProps {
  /** e.g. "Only admins can manage accounts". */
  title: string;
  message?: string;
  linkTo: string;
  linkLabel: string;
}

/** What a viewer sees on a page only admins may use: why, and a way on. */
export function AdminsOnly({ title, message = 'Your account is a viewer: it can read the catalogue, its history and the recent actions, but not change them.', linkTo, linkLabel }: AdminsOnlyProps) {
  useDocumentTitle(title);
  return (
    <section className="text-center py-5 px-3" aria-labelledby="admins-only-title">
      <h1 id="admins-only-title" className="h2">
        {title}
      </h1>
      <p className="text-body-secondary mx-auto mb-4 not-found-text">{message}</p>
      <Link className="btn btn-primary" to={linkTo}>
        {linkLabel}
      </Link>
    </section>
  );
}
