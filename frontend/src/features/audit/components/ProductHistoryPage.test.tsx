import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { auditEntry } from '@/testing/audit-entries';
import { mockFetch, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { ProductHistoryRoute } from './ProductHistoryPage';

const renamed = auditEntry({ id: 42, changes: { title: { old: 'Mug', new: 'Big mug' } } });
const created = auditEntry({
  id: 30,
  action: 'product.create',
  product_version: 1,
  changes: { title: { old: null, new: 'Mug' }, image: { old: null, new: '/img/mug.png' } },
});

function renderHistory(id = '7', as: 'admin' | 'viewer' = 'admin') {
  return renderRoutes([{ path: '/admin/products/:id/history', element: <ProductHistoryRoute /> }], `/admin/products/${id}/history`, undefined, {
    as,
  });
}

describe('ProductHistoryPage', () => {
  it('shows the product’s changes newest first, named by its latest title, with Edit for admins', async () => {
    const { calls } = mockFetch({ 'GET /api/products/7/history': { json: [renamed, created] } });
    renderHistory();
    expect(await screen.findByRole('heading', { level: 1, name: 'History of “Big mug”' })).toBeInTheDocument();
    const items = within(screen.getByRole('list', { name: 'Changes, newest first' })).getAllByRole('listitem');
    expect(items[0]).toHaveTextContent('Ada Lovelace edited “Big mug”');
    expect(items[0]).toHaveTextContent('title: “Mug” → “Big mug”');
    // On its own history page the product is not a link to itself.
    expect(within(items[0]!).queryByRole('link')).not.toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Edit product' })).toHaveAttribute('href', '/admin/products/7/edit');
    expect(calls.map((c) => c.url)).toEqual(['/api/products/7/history']);
    await waitFor(() => expect(document.title).toBe('History of “Big mug” · Little Shop'));
  });

  it('offers no Edit to a viewer, nor for a deleted product', async () => {
    mockFetch({ 'GET /api/products/7/history': { json: [renamed] } });
    const viewer = renderHistory('7', 'viewer');
    await screen.findByRole('heading', { level: 1, name: 'History of “Big mug”' });
    expect(screen.queryByRole('link', { name: 'Edit product' })).not.toBeInTheDocument();
    viewer.unmount();

    mockFetch({
      'GET /api/products/7/history': { json: [auditEntry({ id: 50, action: 'product.delete', changes: { title: { old: 'Big mug', new: null } } })] },
    });
    renderHistory();
    expect(await screen.findByText(/deleted · every change/)).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Edit product' })).not.toBeInTheDocument();
  });

  it('pages to older entries', async () => {
    mockFetch({
      'GET /api/products/7/history': { json: [renamed], headers: { Link: '</api/products/7/history?before=42&limit=50>; rel="next"' } },
      'GET /api/products/7/history?before=42&limit=50': { json: [created] },
    });
    const { user } = renderHistory();
    await user.click(await screen.findByRole('button', { name: 'Older entries' }));
    await waitFor(() => expect(screen.getByRole('list', { name: 'Changes, newest first' }).children).toHaveLength(2));
    expect(screen.getByText('No older entries.')).toBeInTheDocument();
  });

  it('says "No history for this product" for a product that never existed (404)', async () => {
    mockFetch({ 'GET /api/products/999/history': { status: 404, json: { error: 'Product not found' } } });
    renderHistory('999');
    expect(await screen.findByRole('heading', { name: 'No history for this product' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to products' })).toHaveAttribute('href', '/admin/products');
  });

  it('shows an error with Retry', async () => {
    mockFetch({ 'GET /api/products/7/history': [server500, { json: [renamed] }] });
    const { user } = renderHistory();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load this product’s history.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'History of “Big mug”' })).toBeInTheDocument();
  });
});
