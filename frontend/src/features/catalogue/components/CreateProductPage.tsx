import { useNavigate } from 'react-router';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { createProduct } from '../api/products';
import type { ProductInput } from '../api/types';
import { type Flash, PRODUCTS_PATH } from '../flash';
import { Breadcrumbs } from './Breadcrumbs';
import { ProductForm } from './ProductForm';

/** `/admin/products/create` */
export function CreateProductPage() {
  useDocumentTitle('Add product');
  const navigate = useNavigate();

  async function handleSubmit(values: ProductInput) {
    const product = await createProduct(values);
    const flash: Flash = { kind: 'success', text: `Added “${product.title}”.` };
    await navigate(PRODUCTS_PATH, { state: { flash } });
  }

  return (
    <>
      <Breadcrumbs current="Add product" />
      <h1 className="h2 mb-4">Add a product</h1>
      <ProductForm submitLabel="Create product" savingLabel="Creating…" cancelTo={PRODUCTS_PATH} onSubmit={handleSubmit} />
    </>
  );
}
