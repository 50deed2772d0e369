import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { SetPasswordPage } from './SetPasswordPage';

const grace = { name: 'Grace Hopper', email: 'grace@example.com', expires_at: new Date(Date.now() + 48 * 3_600_000).toISOString() };
const good = 'correct horse battery';

function renderPage(hash = '#tok123') {
  return renderRoutes([{ path: '/set-password', element: <SetPasswordPage /> }], `/set-password${hash}`, undefined, { as: null });
}

describe('SetPasswordPage', () => {
  it('says whose account it is, sets the password and goes to the products, signed in', async () => {
    const { calls } = mockFetch({
      'POST /api/account-links/inspect': { json: grace },
      'POST /api/account-links/redeem': { json: { id: 4, name: 'Grace Hopper', email: 'grace@example.com', role: 'viewer' } },
    });
    const { user, router } = renderPage();
    expect(screen.getByText('Checking your link…')).toBeInTheDocument();
    expect(await screen.findByRole('heading', { level: 1, name: 'Set a password for Grace Hopper (grace@example.com)' })).toBeInTheDocument();
    await user.type(screen.getByLabelText('New password'), good);
    await user.type(screen.getByLabelText('New password again'), good);
    await user.click(screen.getByRole('button', { name: 'Set password and sign in' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/admin/products'));
    expect(calls.map((c) => [c.url, c.body])).toEqual([
      ['/api/account-links/inspect', { token: 'tok123' }],
      ['/api/account-links/redeem', { token: 'tok123', password: good }],
    ]);
  });

  it('checks the password rules first and shows the API’s password errors next to the field', async () => {
    const { calls } = mockFetch({
      'POST /api/account-links/inspect': { json: grace },
      'POST /api/account-links/redeem': { status: 400, json: { password: ['This password is too common.'] } },
    });
    const { user } = renderPage();
    const password = await screen.findByLabelText('New password');
    await user.type(password, 'short');
    await user.click(screen.getByRole('button', { name: 'Set password and sign in' }));
    expect(password).toHaveAccessibleDescription(/at least 12 characters/);
    expect(calls).toHaveLength(1);
    await user.clear(password);
    await user.type(password, good);
    await user.type(screen.getByLabelText('New password again'), good);
    await user.click(screen.getByRole('button', { name: 'Set password and sign in' }));
    await waitFor(() => expect(password).toHaveAccessibleDescription(/This password is too common./));
    expect(password).toHaveFocus();
  });

  it('shows the API’s message for a used or expired link (410), with a way to sign in', async () => {
    mockFetch({ 'POST /api/account-links/inspect': { status: 410, json: { error: 'This link was used already; ask an admin for a new one' } } });
    renderPage();
    expect(await screen.findByRole('heading', { name: 'This link no longer works' })).toBeInTheDocument();
    expect(screen.getByText('This link was used already; ask an admin for a new one')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Sign in' })).toHaveAttribute('href', '/login');
  });

  it('says an unknown link (404) is unknown', async () => {
    mockFetch({ 'POST /api/account-links/inspect': { status: 404, json: { error: 'Unknown link' } } });
    renderPage();
    expect(await screen.findByRole('heading', { name: 'Unknown link' })).toBeInTheDocument();
  });

  it('says when the link expired while the form was open', async () => {
    mockFetch({
      'POST /api/account-links/inspect': { json: grace },
      'POST /api/account-links/redeem': { status: 410, json: { error: 'This link has expired; ask an admin for a new one' } },
    });
    const { user } = renderPage();
    await user.type(await screen.findByLabelText('New password'), good);
    await user.type(screen.getByLabelText('New password again'), good);
    await user.click(screen.getByRole('button', { name: 'Set password and sign in' }));
    expect(await screen.findByRole('heading', { name: 'This link no longer works' })).toBeInTheDocument();
    expect(screen.getByText('This link has expired; ask an admin for a new one')).toBeInTheDocument();
  });

  it('says a link without its token is incomplete, asking nothing', () => {
    const { calls } = mockFetch({});
    renderPage('');
    expect(screen.getByRole('heading', { name: 'This link is incomplete' })).toBeInTheDocument();
    expect(calls).toHaveLength(0);
  });

  it('offers Retry when the link could not be checked', async () => {
    mockFetch({ 'POST /api/account-links/inspect': [server500, { json: grace }] });
    const { user } = renderPage();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t check your link.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByLabelText('New password')).toBeInTheDocument();
  });
});
