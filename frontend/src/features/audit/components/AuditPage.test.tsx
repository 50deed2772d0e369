import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { auditEntry } from '@/testing/audit-entries';
import { mockFetch, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { AuditPage } from './AuditPage';

const accounts = [
  { id: 3, name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' },
  { id: 4, name: 'Grace Hopper', email: 'grace@example.com', role: 'viewer' },
];
const update = auditEntry({ id: 42 });
const create = auditEntry({
  id: 41,
  action: 'product.create',
  product_version: 1,
  changes: { title: { old: null, new: 'Mug' }, image: { old: null, new: '/img/mug.png' } },
});
const older = auditEntry({ id: 12, action: 'auth.sign_in', product_id: null, product_version: null, changes: null });

function renderAudit(path = '/admin/audit', as: 'admin' | 'viewer' = 'admin') {
  return renderRoutes([{ path: '/admin/audit', element: <AuditPage /> }], path, undefined, { as });
}

function entries() {
  return within(screen.getByRole('list', { name: 'Actions, newest first' }))
    .getAllByRole('listitem')
    .filter((li) => li.classList.contains('audit-entry'));
}

describe('AuditPage', () => {
  it('shows each entry as a sentence, its time, and its changes old → new, the product linked to its history', async () => {
    mockFetch({
      'GET /api/audit': { json: [update, create] },
      'GET /api/admins': { json: accounts },
    });
    renderAudit();
    expect(await screen.findByRole('heading', { level: 1, name: 'Recent actions' })).toBeInTheDocument();
    await screen.findByRole('list', { name: 'Actions, newest first' });
    const [first, second] = entries();
    expect(first).toHaveTextContent('Ada Lovelace edited “Big mug”');
    expect(first).toHaveTextContent('5 minutes ago');
    expect(first).toHaveTextContent('title: “Mug” → “Big mug”');
    expect(within(first!).getByRole('link', { name: '“Big mug”' })).toHaveAttribute('href', '/admin/products/7/history');
    expect(first!.querySelector('time')).toHaveAttribute('datetime', new Date(update.at).toISOString());
    expect(second).toHaveTextContent('image: none → “/img/mug.png”');
    expect(document.title).toBe('Recent actions · Little Shop');
  });

  it('filters by action and by account (admins), in the URL, asking the API for exactly that', async () => {
    const { calls } = mockFetch({
      'GET /api/audit': { json: [update] },
      'GET /api/audit?action=product.create': { json: [create] },
      'GET /api/audit?action=product.create&actor=4': { json: [] },
      'GET /api/admins': { json: accounts },
    });
    const { user, router } = renderAudit();
    await screen.findByRole('list', { name: 'Actions, newest first' });

    await user.selectOptions(screen.getByRole('combobox', { name: 'Action' }), 'Product added');
    await waitFor(() => expect(router.state.location.search).toBe('?action=product.create'));
    await waitFor(() => expect(entries()[0]).toHaveTextContent('Ada Lovelace added “Mug”'));

    const account = screen.getByRole('combobox', { name: 'Account' });
    await waitFor(() => expect(within(account).getByRole('option', { name: 'Grace Hopper (grace@example.com)' })).toBeInTheDocument());
    await user.selectOptions(account, 'Grace Hopper (grace@example.com)');
    expect(await screen.findByRole('heading', { name: 'No actions match these filters' })).toBeInTheDocument();
    expect(router.state.location.search).toBe('?action=product.create&actor=4');
    expect(calls.filter((c) => c.url.startsWith('/api/audit')).map((c) => c.url)).toEqual([
      '/api/audit',
      '/api/audit?action=product.create',
      '/api/audit?action=product.create&actor=4',
    ]);

    await user.click(screen.getByRole('link', { name: 'Clear filters' }));
    await waitFor(() => expect(router.state.location.search).toBe(''));
    await waitFor(() => expect(entries()[0]).toHaveTextContent('Ada Lovelace edited “Big mug”'));
  });

  it('offers viewers the action filter only (they cannot list accounts)', async () => {
    const { calls } = mockFetch({ 'GET /api/audit?action=auth.sign_in': { json: [older] } });
    renderAudit('/admin/audit?action=auth.sign_in', 'viewer');
    await screen.findByRole('list', { name: 'Actions, newest first' });
    expect(screen.getByRole('combobox', { name: 'Action' })).toHaveValue('auth.sign_in');
    expect(screen.queryByRole('combobox', { name: 'Account' })).not.toBeInTheDocument();
    expect(calls.map((c) => c.url)).toEqual(['/api/audit?action=auth.sign_in']);
  });

  it('loads older entries from the Link header’s rel="next", appending them', async () => {
    const { calls } = mockFetch({
      'GET /api/audit': { json: [update, create], headers: { Link: '</api/audit?before=41&limit=50>; rel="next"' } },
      'GET /api/audit?before=41&limit=50': { json: [older] },
      'GET /api/admins': { json: accounts },
    });
    const { user } = renderAudit();
    await screen.findByRole('list', { name: 'Actions, newest first' });
    expect(screen.queryByText('No older entries.')).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Older entries' }));
    await waitFor(() => expect(entries()).toHaveLength(3));
    expect(entries()[2]).toHaveTextContent('Ada Lovelace signed in');
    expect(screen.queryByRole('button', { name: 'Older entries' })).not.toBeInTheDocument();
    expect(screen.getByText('No older entries.')).toBeInTheDocument();
    expect(screen.getByText('Showing 3 entries, the oldest ones.')).toBeInTheDocument();
    expect(calls.map((c) => c.url)).toContain('/api/audit?before=41&limit=50');
  });

  it('shows an error with Retry for older entries, keeping those shown', async () => {
    mockFetch({
      'GET /api/audit': { json: [update], headers: { Link: '</api/audit?before=42>; rel="next"' } },
      'GET /api/audit?before=42': [server500, { json: [older] }],
      'GET /api/admins': { json: accounts },
    });
    const { user } = renderAudit();
    await user.click(await screen.findByRole('button', { name: 'Older entries' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load older entries.');
    expect(entries()).toHaveLength(1);
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(entries()).toHaveLength(2));
  });

  it('shows loading, then an error with Retry, then the empty state', async () => {
    mockFetch({ 'GET /api/audit': [server500, { json: [] }], 'GET /api/admins': { json: accounts } });
    const { user } = renderAudit();
    expect(screen.getByText('Loading entries…')).toBeInTheDocument();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the recent actions.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { name: 'No actions recorded yet' })).toBeInTheDocument();
  });
});
