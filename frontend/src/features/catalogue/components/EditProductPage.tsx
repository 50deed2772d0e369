import { useCallback } from 'react';
import { useNavigate, useParams } from 'react-router';
import { NotFound } from '@/components/NotFound';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useResource } from '@/hooks/use-resource';
import { ApiError, isApiError } from '@/lib/api-client';
import { paths } from '@/lib/paths';
import { getProduct, type ProductInput, updateProduct } from '../api/products';
import type { Flash } from '../flash';
import { Breadcrumbs } from './Breadcrumbs';
import { ProductForm } from './ProductForm';

/** `paths.editProduct`: a fresh page (and load) for each id. */
export function EditProductRoute() {
  const { id = '' } = useParams();
  return <EditProductPage key={id} id={id} />;
}

export function EditProductPage({ id }: { id: string }) {
  const navigate = useNavigate();
  const { state, reload } = useResource(useCallback((signal: AbortSignal) => getProduct(id, signal), [id]));
  const notFound = state.status === 'error' && state.error.isNotFound;
  useDocumentTitle(
    state.status === 'success' ? `Edit “${state.data.title}”` : notFound ? 'Product not found' : 'Edit product',
  );

  async function handleSubmit(values: ProductInput) {
    let product;
    try {
      product = await updateProduct(id, values);
    } catch (error) {
      if (isApiError(error) && error.isNotFound) {
        const message = 'This product no longer exists: it may have been deleted meanwhile.';
        throw new ApiError({ kind: 'http', status: 404, message, serverMessage: message });
      }
      throw error;
    }
    const flash: Flash = { kind: 'success', text: `Saved “${product.title}”.` };
    await navigate(paths.products, { state: { flash } });
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
      <Breadcrumbs current={state.status === 'success' ? state.data.title : 'Edit product'} />
      <h1 className="h2 mb-4">Edit product</h1>
      <ResourceStatus state={state} loadingLabel="Loading product…" errorTitle="We couldn’t load this product." onRetry={reload} />
      {state.status === 'success' ? (
        <ProductForm
          initialValues={{ title: state.data.title, image: state.data.image }}
          submitLabel="Save changes"
          cancelTo={paths.products}
          onSubmit={handleSubmit}
        />
      ) : null}
    </>
  );
}
