import { screen, waitFor, within } from '@testing-library/react';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { auditEntry } from '@/testing/audit-entries';
import { mockFetch, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { RecentActionsPanel } from './RecentActionsPanel';

function Host() {
  const [changes, setChanges] = useState(0);
  return (
    <>
      <button type="button" onClick={() => setChanges((n) => n + 1)}>
        Change something
      </button>
      <RecentActionsPanel refreshKey={changes} />
    </>
  );
}

function renderPanel() {
  return renderRoutes([{ path: '/admin/products', element: <Host /> }], '/admin/products');
}

describe('RecentActionsPanel', () => {
  it('shows the latest ten entries as sentences, linking products to their history and to all actions', async () => {
    const entries = Array.from({ length: 10 }, (_, i) =>
      auditEntry({ id: 100 - i, product_id: i + 1, changes: { title: { old: 'x', new: `Product ${i + 1}` } } }),
    );
    const { calls } = mockFetch({ 'GET /api/audit?limit=10': { json: entries } });
    renderPanel();
    const panel = screen.getByRole('complementary', { name: 'Recent actions' });
    const list = await within(panel).findByRole('list', { name: 'Latest actions' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(10);
    expect(within(list).getAllByRole('listitem')[0]).toHaveTextContent('Ada Lovelace edited “Product 1”5 minutes ago');
    expect(within(list).getByRole('link', { name: '“Product 3”' })).toHaveAttribute('href', '/admin/products/3/history');
    // Compact: no changes listed.
    expect(panel).not.toHaveTextContent('→');
    expect(within(panel).getByRole('link', { name: 'All recent actions' })).toHaveAttribute('href', '/admin/audit');
    expect(calls.map((c) => c.url)).toEqual(['/api/audit?limit=10']);
  });

  it('asks again when the page changed something', async () => {
    const { calls } = mockFetch({
      'GET /api/audit?limit=10': [{ json: [] }, { json: [auditEntry({ action: 'product.delete', changes: { title: { old: 'Mug', new: null } } })] }],
    });
    const { user } = renderPanel();
    expect(await screen.findByText('Nothing has been done yet.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Change something' }));
    expect(await screen.findByText(/deleted/)).toBeInTheDocument();
    await waitFor(() => expect(calls).toHaveLength(2));
  });

  it('shows an error with Retry', async () => {
    mockFetch({ 'GET /api/audit?limit=10': [server500, { json: [auditEntry()] }] });
    const { user } = renderPanel();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the recent actions.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('link', { name: '“Big mug”' })).toBeInTheDocument();
  });
});
