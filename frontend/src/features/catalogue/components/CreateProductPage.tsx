import { useNavigate } from 'react-router';
import { AdminsOnly } from '@/components/AdminsOnly';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { paths } from '@/lib/paths';
import { canChangeCatalogue } from '@/lib/roles';
import { createProduct, type ProductInput } from '../api/products';
import type { Flash } from '../flash';
import { Breadcrumbs } from './Breadcrumbs';
import { ProductForm } from './ProductForm';

/** `paths.createProduct`: admins only. */
export function CreateProductPage() {
  if (!canChangeCatalogue(useCurrentAdmin())) {
    return <AdminsOnly title="Only admins can add products" linkTo={paths.products} linkLabel="Back to products" />;
  }
  return <CreateProductForm />;
}

function CreateProductForm() {
  useDocumentTitle('Add product');
  const navigate = useNavigate();

  async function handleSubmit(values: ProductInput) {
    const product = await createProduct(values);
    const flash: Flash = { kind: 'success', text: `Added “${product.title}”.` };
    await navigate(paths.products, { state: { flash } });
  }

  return (
    <>
      <Breadcrumbs current="Add product" />
      <h1 className="h2 mb-4">Add a product</h1>
      <ProductForm submitLabel="Create product" savingLabel="Creating…" cancelTo={paths.products} onSubmit={handleSubmit} />
    </>
  );
}
