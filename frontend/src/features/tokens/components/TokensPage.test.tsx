import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { minutesAgo } from '@/testing/audit-entries';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { TokensPage } from './TokensPage';

const ci = {
  id: 1,
  name: 'ci-smoke',
  owner: { id: 3, name: 'Ada Lovelace' },
  created_at: minutesAgo(60 * 24 * 3),
  last_used_at: minutesAgo(10),
  expires_at: new Date(Date.now() + 5 * 24 * 3_600_000).toISOString(),
  expired: false,
};
const old = { ...ci, id: 2, name: 'old-monitor', owner: null, last_used_at: null, expires_at: minutesAgo(60), expired: true };
const forever = { ...ci, id: 3, name: 'forever', expires_at: null };
const secret = `shop_${'ab'.repeat(32)}`;

function renderTokens(as: 'admin' | 'viewer' = 'admin') {
  return renderRoutes([{ path: '/admin/tokens', element: <TokensPage /> }], '/admin/tokens', undefined, { as });
}

const row = (name: string) => screen.getByRole('rowheader', { name }).closest('tr')!;

describe('TokensPage', () => {
  it('lists tokens with owner, created, last used and expiry (or expired)', async () => {
    mockFetch({ 'GET /api/tokens': { json: [ci, old, forever] } });
    renderTokens();
    await screen.findByRole('table', { name: 'API tokens' });
    expect(screen.getByRole('columnheader', { name: 'Owner' })).toBeInTheDocument();
    expect(row('ci-smoke')).toHaveTextContent('Ada Lovelace3 days ago10 minutes agoin 5 days');
    expect(row('old-monitor')).toHaveTextContent('No owner (acts as an admin)');
    expect(row('old-monitor')).toHaveTextContent('Never');
    expect(row('old-monitor')).toHaveTextContent('Expired');
    expect(within(row('forever')).getAllByRole('cell')[3]).toHaveTextContent('Never');
    expect(document.title).toBe('API tokens · Little Shop');
  });

  it('shows a viewer their own tokens without the owner column', async () => {
    mockFetch({ 'GET /api/tokens': { json: [ci] } });
    renderTokens('viewer');
    await screen.findByRole('table', { name: 'API tokens' });
    expect(screen.queryByRole('columnheader', { name: 'Owner' })).not.toBeInTheDocument();
  });

  it('creates a token and shows it once, to copy, with a warning', async () => {
    const { calls } = mockFetch({
      'GET /api/tokens': { json: [] },
      'POST /api/tokens': { status: 201, json: { ...ci, id: 9, name: 'deploy', token: secret } },
    });
    const { user } = renderTokens();
    expect(await screen.findByRole('heading', { name: 'No API tokens yet' })).toBeInTheDocument();
    await user.type(screen.getByLabelText('Token name'), 'deploy');
    await user.type(screen.getByLabelText('Expires in (days)'), '30');
    await user.click(screen.getByRole('button', { name: 'Create token' }));

    const panel = await screen.findByRole('region', { name: 'Your new token “deploy”' });
    expect(panel).toHaveTextContent('Copy it now: it is not shown again.');
    expect(within(panel).getByLabelText('API token')).toHaveValue(secret);
    await user.click(within(panel).getByRole('button', { name: 'Copy token' }));
    expect(await navigator.clipboard.readText()).toBe(secret);
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'deploy', expires_in_days: 30 });
    expect(row('deploy')).toBeInTheDocument();

    await user.click(within(panel).getByRole('button', { name: 'I have copied it' }));
    expect(screen.queryByText(secret)).not.toBeInTheDocument();
    expect(screen.queryByDisplayValue(secret)).not.toBeInTheDocument();
  });

  it('sends no expiry when the days are left empty, checks them, and shows the API’s field errors', async () => {
    const { calls } = mockFetch({
      'GET /api/tokens': { json: [ci] },
      'POST /api/tokens': [{ status: 400, json: { name: ['You already have a token with this name.'] } }, nginx503],
    });
    const { user } = renderTokens();
    await screen.findByRole('table', { name: 'API tokens' });
    const days = screen.getByLabelText('Expires in (days)');
    await user.type(screen.getByLabelText('Token name'), 'ci-smoke');
    await user.type(days, '0');
    await user.click(screen.getByRole('button', { name: 'Create token' }));
    expect(days).toHaveAccessibleDescription(/from 1 to 3,650/);
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    await user.clear(days);
    await user.click(screen.getByRole('button', { name: 'Create token' }));
    const name = screen.getByLabelText('Token name');
    await waitFor(() => expect(name).toHaveAccessibleDescription(/You already have a token with this name./));
    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'ci-smoke' });

    await user.click(screen.getByRole('button', { name: 'Create token' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The token was not created.');
  });

  it('revokes a token after confirming', async () => {
    const { calls } = mockFetch({ 'GET /api/tokens': { json: [ci, forever] }, 'DELETE /api/tokens/1': [server500, { status: 204 }] });
    const { user } = renderTokens();
    await screen.findByRole('table', { name: 'API tokens' });
    await user.click(screen.getByRole('button', { name: 'Revoke ci-smoke' }));
    const dialog = screen.getByRole('dialog', { name: 'Revoke token?' });
    expect(dialog).toHaveTextContent('Revoke “ci-smoke”?');
    await user.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('“ci-smoke” was not revoked.');
    await user.click(within(dialog).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.queryByRole('rowheader', { name: 'ci-smoke' })).not.toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent('Revoked “ci-smoke”: it no longer works.');
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(2);
  });

  it('shows an error with Retry when the list fails', async () => {
    mockFetch({ 'GET /api/tokens': [server500, { json: [ci] }] });
    const { user } = renderTokens();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the tokens.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('rowheader', { name: 'ci-smoke' })).toBeInTheDocument();
  });
});
