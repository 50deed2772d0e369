import { Link, useParams } from 'react-router';
import { NotFound } from '@/components/NotFound';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { type AuditEntry, entryProductTitle } from '@/lib/audit-log';
import { editProductPath, paths } from '@/lib/paths';
import { canChangeCatalogue } from '@/lib/roles';
import { productHistoryUrl } from '../api/audit';
import { useAuditFeed } from '../use-audit-feed';
import { AuditFeedView } from './AuditFeedView';

/** The newest title the entries know, or null. */
function knownTitle(entries: AuditEntry[]): string | null {
  for (const entry of entries) {
    const title = entryProductTitle(entry);
    if (title !== null) return title;
  }
  return null;
}

/** `paths.productHistory`: a fresh page (and load) for each id. */
export function ProductHistoryRoute() {
  const { id = '' } = useParams();
  return <ProductHistoryPage key={id} id={id} />;
}

/**
 * One product's change history, newest first (a deleted product's too), with Older
 * entries; "No history for this product" when it never existed (404).
 */
export function ProductHistoryPage({ id }: { id: string }) {
  const feed = useAuditFeed(productHistoryUrl(id));
  const admin = useCurrentAdmin();
  const notFound = feed.status === 'error' && feed.error?.isNotFound === true;
  const title = knownTitle(feed.entries);
  const name = title !== null ? `“${title}”` : `product #${id}`;
  const deleted = feed.entries[0]?.action === 'product.delete' || feed.entries[0]?.action === 'product.bulk_delete';
  useDocumentTitle(notFound ? 'No history for this product' : `History of ${name}`);

  if (notFound) {
    return (
      <NotFound
        title="No history for this product"
        message="There has never been a product with this id."
        linkTo={paths.products}
        linkLabel="Back to products"
        setTitle={false}
      />
    );
  }

  return (
    <>
      <nav aria-label="Breadcrumb">
        <ol className="breadcrumb mb-2">
          <li className="breadcrumb-item">
            <Link to={paths.products}>Products</Link>
          </li>
          <li className="breadcrumb-item active text-truncate breadcrumb-current" aria-current="page">
            History
          </li>
        </ol>
      </nav>
      <div className="d-flex flex-wrap align-items-center justify-content-between gap-3 mb-4">
        <div>
          <h1 className="h2 mb-1 text-break">History of {name}</h1>
          <p className="text-body-secondary mb-0">
            Product #{id}
            {deleted ? ' · deleted' : ''} · every change, newest first.
          </p>
        </div>
        {canChangeCatalogue(admin) && !deleted && feed.status === 'success' ? (
          <Link to={editProductPath(id)} className="btn btn-outline-primary">
            Edit product
          </Link>
        ) : null}
      </div>
      <AuditFeedView
        feed={feed}
        label="Changes, newest first"
        errorTitle="We couldn’t load this product’s history."
        linkProducts={false}
        empty={{ title: 'No changes recorded yet', text: 'Changes made to this product appear here.' }}
      />
    </>
  );
}
