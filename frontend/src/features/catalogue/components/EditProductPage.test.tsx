import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, server500 } from '@/testing/mock-fetch';
import { FIRST_PRODUCT_PAGE, productPage } from '@/testing/product-pages';
import { renderRoutes } from '@/testing/render';
import { EditProductRoute } from './EditProductPage';
import { ProductListPage } from './ProductListPage';

const mug = { id: 5, title: 'Mug', image: 'https://example.com/mug.png', likes: 3 };

function renderEdit(id = '5') {
  return renderRoutes(
    [
      { path: '/admin/products', element: <ProductListPage /> },
      { path: '/admin/products/:id/edit', element: <EditProductRoute /> },
    ],
    `/admin/products/${id}/edit`,
  );
}

describe('EditProductPage', () => {
  it('shows a loading state while the product loads', () => {
    mockFetch({ 'GET /api/products/5': 'pending' });
    renderEdit();
    expect(screen.getByRole('status')).toHaveTextContent('Loading product…');
  });

  it('loads the product into the form', async () => {
    mockFetch({ 'GET /api/products/5': { json: mug } });
    renderEdit();
    expect(await screen.findByLabelText('Title')).toHaveValue('Mug');
    expect(screen.getByLabelText('Image URL')).toHaveValue('https://example.com/mug.png');
    expect(screen.getByRole('img', { name: /Preview of the image for Mug/ })).toHaveAttribute('src', mug.image);
    await waitFor(() => expect(document.title).toBe('Edit “Mug” · Little Shop'));
  });

  it('shows "Product not found" with a link back for a 404', async () => {
    mockFetch({ 'GET /api/products/999': { status: 404, json: { error: 'Product not found' } } });
    renderEdit('999');
    expect(await screen.findByRole('heading', { name: 'Product not found' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to products' })).toHaveAttribute('href', '/admin/products');
    expect(screen.queryByLabelText('Title')).not.toBeInTheDocument();
  });

  it('shows an error with Retry when loading fails', async () => {
    mockFetch({ 'GET /api/products/5': [server500, { json: mug }] });
    const { user } = renderEdit();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load this product.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByLabelText('Title')).toHaveValue('Mug');
  });

  it('saves with PUT (202) and goes back to the list, which shows the change', async () => {
    const updated = { ...mug, title: 'Big mug' };
    const { calls } = mockFetch({
      'GET /api/products/5': { json: mug },
      'PUT /api/products/5': { status: 202, json: updated },
      [FIRST_PRODUCT_PAGE]: productPage([updated]),
    });
    const { user, router } = renderEdit();
    const title = await screen.findByLabelText('Title');
    await user.clear(title);
    await user.type(title, 'Big mug');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/admin/products'));
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ title: 'Big mug', image: mug.image });
    expect(await screen.findByText('Saved “Big mug”.')).toBeInTheDocument();
    expect(await screen.findByRole('rowheader', { name: /^Big mug/ })).toBeInTheDocument();
  });

  it('shows server field errors from the PUT next to the field', async () => {
    mockFetch({
      'GET /api/products/5': { json: mug },
      'PUT /api/products/5': { status: 400, json: { image: ['Enter a valid URL (http:// or https://) or a path starting with /.'] } },
    });
    const { user } = renderEdit();
    await user.click(await screen.findByRole('button', { name: 'Save changes' }));
    const image = screen.getByLabelText('Image URL');
    await waitFor(() => expect(image).toHaveAttribute('aria-invalid', 'true'));
    expect(image).toHaveAccessibleDescription(expect.stringContaining('Enter a valid URL') as string);
    expect(image).toHaveFocus();
  });

  it('says so when the product was deleted while being edited', async () => {
    mockFetch({
      'GET /api/products/5': { json: mug },
      'PUT /api/products/5': { status: 404, json: { error: 'Product not found' } },
    });
    const { user } = renderEdit();
    await user.click(await screen.findByRole('button', { name: 'Save changes' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/no longer exists/);
  });

  it('after a session ended mid-edit, shows what was typed rather than the stored product', async () => {
    mockFetch({
      'GET /api/products/5': { json: mug },
      'PUT /api/products/5': { status: 401, json: { error: 'Sign in required' } },
    });
    const first = renderEdit();
    const title = await screen.findByLabelText('Title');
    await first.user.clear(title);
    await first.user.type(title, 'Big mug');
    await first.user.click(screen.getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(first.router.state.location.pathname).toBe('/login'));
    expect(first.router.state.location.search).toBe('?next=%2Fadmin%2Fproducts%2F5%2Fedit');
    first.unmount();

    // Back after signing in: the same page, loaded again, with the draft.
    renderEdit();
    expect(await screen.findByLabelText('Title')).toHaveValue('Big mug');
    expect(screen.getByRole('status')).toHaveTextContent('Your session ended before this was saved.');
  });
});
