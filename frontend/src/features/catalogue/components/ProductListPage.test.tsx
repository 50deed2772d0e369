import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { ProductListPage } from './ProductListPage';

const mug = { id: 1, title: 'Mug', image: 'https://example.com/mug.png', likes: 2 };
const lamp = { id: 2, title: 'Lamp', image: '/img/lamp.png', likes: 0 };

function renderList() {
  return renderRoutes([{ path: '/admin/products', element: <ProductListPage /> }], '/admin/products');
}

function row(title: string) {
  return screen.getByRole('rowheader', { name: new RegExp(`^${title}`) }).closest('tr')!;
}

describe('ProductListPage', () => {
  it('shows a loading state', () => {
    mockFetch({ 'GET /api/products': 'pending' });
    renderList();
    expect(screen.getByRole('status')).toHaveTextContent('Loading products…');
    expect(document.title).toBe('Products · Little Shop');
  });

  it('shows the catalogue as a table with thumbnails, titles, likes, Edit and Delete', async () => {
    mockFetch({ 'GET /api/products': { json: [mug, lamp] } });
    renderList();
    const table = await screen.findByRole('table');
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    const mugRow = row('Mug');
    expect(within(mugRow).getByRole('img', { name: 'Mug' })).toHaveAttribute('src', mug.image);
    expect(within(mugRow).getByRole('cell', { name: '2' })).toBeInTheDocument();
    expect(within(mugRow).getByRole('link', { name: 'Edit Mug' })).toHaveAttribute('href', '/admin/products/1/edit');
    expect(within(mugRow).getByRole('button', { name: 'Delete Mug' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Add product' })).toHaveAttribute('href', '/admin/products/create');
  });

  it('shows "No products yet" with a link to add one', async () => {
    mockFetch({ 'GET /api/products': { json: [] } });
    renderList();
    expect(await screen.findByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Add your first product' })).toHaveAttribute('href', '/admin/products/create');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('shows an error with Retry', async () => {
    mockFetch({ 'GET /api/products': [server500, { json: [mug] }] });
    const { user } = renderList();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the catalogue.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('table')).toBeInTheDocument();
  });

  it('deletes a product after confirming in a dialog that names it', async () => {
    const { calls } = mockFetch({
      'GET /api/products': { json: [mug, lamp] },
      'DELETE /api/products/1': { status: 204 },
    });
    const { user } = renderList();
    await screen.findByRole('table');
    const deleteButton = within(row('Mug')).getByRole('button', { name: 'Delete Mug' });
    await user.click(deleteButton);

    const dialog = screen.getByRole('dialog', { name: 'Delete product?' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveTextContent('Delete “Mug”?');
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();

    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.queryByRole('rowheader', { name: /^Mug/ })).not.toBeInTheDocument();
    expect(screen.getByRole('rowheader', { name: /^Lamp/ })).toBeInTheDocument();
    expect(screen.getByText('Deleted “Mug”.')).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });

  it('does nothing when the dialog is cancelled (button or Escape), and returns focus', async () => {
    const { calls } = mockFetch({ 'GET /api/products': { json: [mug] } });
    const { user } = renderList();
    await screen.findByRole('table');
    const deleteButton = screen.getByRole('button', { name: 'Delete Mug' });

    await user.click(deleteButton);
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(deleteButton).toHaveFocus();

    await user.click(deleteButton);
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    expect(screen.getByRole('rowheader', { name: /^Mug/ })).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
  });

  it('keeps the dialog open with an error when the delete fails', async () => {
    mockFetch({ 'GET /api/products': { json: [mug] }, 'DELETE /api/products/1': nginx503 });
    const { user } = renderList();
    await user.click(await screen.findByRole('button', { name: 'Delete Mug' }));
    const dialog = screen.getByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('“Mug” was not deleted. The service is temporarily unavailable');
    expect(screen.getByRole('rowheader', { name: /^Mug/ })).toBeInTheDocument();
  });

  it('removes the row when the product had already been deleted (404)', async () => {
    mockFetch({
      'GET /api/products': { json: [mug] },
      'DELETE /api/products/1': { status: 404, json: { error: 'Product not found' } },
    });
    const { user } = renderList();
    await user.click(await screen.findByRole('button', { name: 'Delete Mug' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('“Mug” had already been deleted.')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
  });

  it('sends the admin to sign in when the session has ended, deleting nothing', async () => {
    mockFetch({
      'GET /api/products': { json: [mug] },
      'DELETE /api/products/1': { status: 401, json: { error: 'Sign in required' } },
    });
    const { user, router } = renderList();
    await user.click(await screen.findByRole('button', { name: 'Delete Mug' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?next=%2Fadmin%2Fproducts');
    expect(router.state.location.state).toEqual({ loginReason: 'session-ended' });
    // The dialog went with the page, and its scroll lock too.
    expect(await screen.findByText('Stub page')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(document.body).not.toHaveClass('modal-open-lock');
  });
});
