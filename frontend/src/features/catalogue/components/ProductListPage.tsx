import { useCallback, useEffect, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { EmptyState } from '@/components/ui/EmptyState';
import { BoxIcon, PlusIcon } from '@/components/ui/icons';
import { ImageWithFallback } from '@/components/ui/ImageWithFallback';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useResource } from '@/hooks/use-resource';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { editProductPath, paths } from '@/lib/paths';
import type { Product } from '@/lib/product';
import { isSignInRequired } from '@/lib/session';
import { deleteProduct, listProducts } from '../api/products';
import { type Flash, readFlash } from '../flash';

/** `paths.products`: the catalogue as a table, with add, edit and delete. */
export function ProductListPage() {
  useDocumentTitle('Products');
  const location = useLocation();
  const { state, reload, setData } = useResource(useCallback((signal: AbortSignal) => listProducts(signal), []));
  // A message from the page that sent us here ("Added …"), or from a delete on this page.
  const [flash, setFlash] = useState<Flash | null>(() => readFlash(location.state));
  const navigate = useNavigate();
  // Forget the message in the history entry, so a reload or Back does not show it again.
  useEffect(() => {
    if (readFlash(location.state)) void navigate(location.pathname, { replace: true, state: null });
  }, [location.pathname, location.state, navigate]);
  const [toDelete, setToDelete] = useState<Product | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();

  function openDelete(product: Product) {
    setDeleteError(null);
    setToDelete(product);
  }

  function closeDelete() {
    if (deleting) return;
    setToDelete(null);
    setDeleteError(null);
  }

  async function confirmDelete() {
    if (!toDelete) return;
    const product = toDelete;
    setDeleting(true);
    setDeleteError(null);
    try {
      await deleteProduct(product.id);
      setFlash({ kind: 'success', text: `Deleted “${product.title}”.` });
    } catch (error) {
      if (isSignInRequired(error)) {
        // Nothing was deleted; the sign-in page says the session ended.
        sessionEnded();
        return;
      }
      const e = toApiError(error);
      if (!e.isNotFound) {
        setDeleteError(`“${product.title}” was not deleted. ${describeError(e)}`);
        setDeleting(false);
        return;
      }
      setFlash({ kind: 'info', text: `“${product.title}” had already been deleted.` });
    }
    setData((products) => products.filter((p) => p.id !== product.id));
    setDeleting(false);
    setToDelete(null);
  }

  const products = state.status === 'success' ? state.data : [];

  return (
    <>
      <div className="d-flex flex-wrap align-items-center justify-content-between gap-3 mb-4">
        <div>
          <h1 className="h2 mb-1">Products</h1>
          <p className="text-body-secondary mb-0">Manage the catalogue shoppers see in the shop.</p>
        </div>
        <div className="d-flex gap-2">
          <button type="button" className="btn btn-outline-secondary" onClick={reload} disabled={state.status === 'loading'}>
            Refresh
          </button>
          <Link to={paths.createProduct} className="btn btn-primary d-inline-flex align-items-center gap-2">
            <PlusIcon />
            Add product
          </Link>
        </div>
      </div>

      {flash ? (
        <DismissibleAlert variant={flash.kind} role="status" onDismiss={() => setFlash(null)}>
          {flash.text}
        </DismissibleAlert>
      ) : null}

      <ResourceStatus state={state} loadingLabel="Loading products…" errorTitle="We couldn’t load the catalogue." onRetry={reload} />

      {state.status === 'success' && products.length === 0 ? (
        <EmptyState
          title="No products yet"
          icon={<BoxIcon />}
          action={
            <Link to={paths.createProduct} className="btn btn-primary">
              Add your first product
            </Link>
          }
        >
          Products you add here appear in the shop a moment later.
        </EmptyState>
      ) : null}

      {products.length > 0 ? (
        <div className="card shadow-sm">
          <div className="table-responsive position-relative">
            <table className="table table-hover align-middle mb-0 product-table">
              <caption className="visually-hidden">Products in the catalogue</caption>
              <thead className="table-light">
                <tr>
                  <th scope="col" className="text-end d-none d-sm-table-cell">
                    #
                  </th>
                  <th scope="col">Image</th>
                  <th scope="col">Title</th>
                  <th scope="col" className="text-end">
                    Likes
                  </th>
                  <th scope="col" className="text-end">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {products.map((product) => (
                  <tr key={product.id}>
                    <td className="text-end text-body-secondary d-none d-sm-table-cell">{product.id}</td>
                    <td>
                      <div className="product-thumb rounded overflow-hidden bg-body-secondary">
                        <ImageWithFallback
                          src={product.image}
                          alt={product.title}
                          className="object-fit-cover w-100 h-100"
                          fallbackClassName="w-100 h-100"
                          fallbackText={null}
                          iconSize={20}
                        />
                      </div>
                    </td>
                    <th scope="row" className="fw-semibold product-title-cell">
                      <span className="d-block text-break">{product.title}</span>
                      <span className="d-none d-sm-block small fw-normal text-body-secondary text-truncate product-url">
                        {product.image}
                      </span>
                    </th>
                    <td className="text-end">{product.likes}</td>
                    <td className="text-end">
                      <div className="d-flex flex-column flex-sm-row gap-2 justify-content-end align-items-end">
                        <Link
                          to={editProductPath(product.id)}
                          className="btn btn-sm btn-outline-secondary"
                          aria-label={`Edit ${product.title}`}
                        >
                          Edit
                        </Link>
                        <button
                          type="button"
                          className="btn btn-sm btn-outline-danger"
                          onClick={() => openDelete(product)}
                          aria-label={`Delete ${product.title}`}
                        >
                          Delete
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}

      <ConfirmDialog
        open={toDelete !== null}
        title="Delete product?"
        confirmLabel="Delete"
        busyLabel="Deleting…"
        busy={deleting}
        error={deleteError}
        onConfirm={() => void confirmDelete()}
        onCancel={closeDelete}
      >
        <p className="mb-0">
          Delete <strong className="text-break">“{toDelete?.title}”</strong>? It disappears from the shop too. This cannot be
          undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
