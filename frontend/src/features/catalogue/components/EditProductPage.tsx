import { useCallback, useEffect, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { AdminsOnly } from '@/components/AdminsOnly';
import { NotFound } from '@/components/NotFound';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useResource } from '@/hooks/use-resource';
import { ApiError, isApiError } from '@/lib/api-client';
import { paths, productHistoryPath } from '@/lib/paths';
import type { Product } from '@/lib/product';
import { canChangeCatalogue } from '@/lib/roles';
import { isSignInRequired } from '@/lib/session';
import { getVersionedProduct, type ProductInput, readConflict, updateProduct, type VersionedProduct } from '../api/products';
import type { EditConflict } from '../conflict';
import { readBaseDraft, removeBaseDraft, saveBaseDraft } from '../edit-drafts';
import type { Flash } from '../flash';
import { Breadcrumbs } from './Breadcrumbs';
import { EditConflictPanel } from './EditConflictPanel';
import { ProductForm } from './ProductForm';

/** `paths.editProduct`: a fresh page (and load) for each id; admins only. */
export function EditProductRoute() {
  const { id = '' } = useParams();
  if (!canChangeCatalogue(useCurrentAdmin())) {
    return <AdminsOnly title="Only admins can edit products" linkTo={productHistoryPath(id)} linkLabel="See its history" />;
  }
  return <EditProductPage key={id} id={id} />;
}

/** The version the form edits, and a number that remounts the form when it changes. */
interface Editing {
  from: VersionedProduct;
  form: number;
}

/**
 * Edits a product read with its `ETag`; the save sends it back as `If-Match`, so a product
 * changed by someone else meanwhile is not overwritten: the answer is 412 and the page shows
 * the conflict (EditConflictPanel) instead of the form.
 */
export function EditProductPage({ id }: { id: string }) {
  const navigate = useNavigate();
  const { pathname: draftKey } = useLocation();
  const { state, reload } = useResource(useCallback((signal: AbortSignal) => getVersionedProduct(id, signal), [id]));
  // Back from signing in mid-save: the version that edit started from.
  const [restoredBase] = useState(() => readBaseDraft(draftKey));
  useEffect(() => removeBaseDraft(draftKey), [draftKey]);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [conflict, setConflict] = useState<EditConflict | null>(null);
  const [discarded, setDiscarded] = useState(false);

  const from = editing?.from ?? (state.status === 'success' ? (restoredBase ?? state.data) : null);
  const notFound = state.status === 'error' && state.error.isNotFound;
  useDocumentTitle(
    state.status === 'success' ? `Edit “${state.data.product.title}”` : notFound ? 'Product not found' : 'Edit product',
  );

  async function saved(product: Product) {
    const flash: Flash = { kind: 'success', text: `Saved “${product.title}”.` };
    await navigate(paths.products, { state: { flash } });
  }

  async function handleSubmit(values: ProductInput) {
    if (!from) return;
    let product;
    try {
      product = await updateProduct(id, values, from.etag);
    } catch (error) {
      const current = readConflict(error);
      if (current) {
        setConflict({ from, mine: values, current });
        return;
      }
      if (isSignInRequired(error)) saveBaseDraft(draftKey, from);
      if (isApiError(error) && error.isNotFound) {
        const message = 'This product no longer exists: it may have been deleted meanwhile.';
        throw new ApiError({ kind: 'http', status: 404, message, serverMessage: message });
      }
      throw error;
    }
    await saved(product);
  }

  function discard(current: VersionedProduct) {
    setEditing((e) => ({ from: current, form: (e?.form ?? 0) + 1 }));
    setConflict(null);
    setDiscarded(true);
  }

  if (notFound) {
    return (
      <NotFound
        title="Product not found"
        message="There is no product with this id. It may have been deleted."
        linkTo={paths.products}
        linkLabel="Back to products"
        setTitle={false}
      />
    );
  }

  return (
    <>
      <Breadcrumbs current={state.status === 'success' ? state.data.product.title : 'Edit product'} />
      <div className="d-flex flex-wrap align-items-center justify-content-between gap-2 mb-4">
        <h1 className="h2 mb-0">Edit product</h1>
        <Link to={productHistoryPath(id)} className="btn btn-sm btn-outline-secondary">
          History
        </Link>
      </div>
      <ResourceStatus state={state} loadingLabel="Loading product…" errorTitle="We couldn’t load this product." onRetry={reload} />
      {conflict ? (
        <EditConflictPanel
          // A new conflict (reapplying met another change) is a new panel.
          key={conflict.current.etag ?? ''}
          id={id}
          conflict={conflict}
          draftKey={draftKey}
          onSaved={(product) => void saved(product)}
          onConflict={(current) => setConflict((c) => (c ? { ...c, current } : c))}
          onDiscard={discard}
        />
      ) : from ? (
        <>
          {discarded ? (
            <DismissibleAlert variant="info" role="status" onDismiss={() => setDiscarded(false)}>
              Your changes were discarded: the form shows the product as it is now.
            </DismissibleAlert>
          ) : null}
          <ProductForm
            key={editing?.form ?? 0}
            initialValues={{ title: from.product.title, image: from.product.image }}
            submitLabel="Save changes"
            cancelTo={paths.products}
            onSubmit={handleSubmit}
          />
        </>
      ) : null}
    </>
  );
}
