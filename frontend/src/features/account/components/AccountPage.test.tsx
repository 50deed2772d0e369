import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { minutesAgo } from '@/testing/audit-entries';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { AccountPage } from './AccountPage';

const chromeLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const firefoxMac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:133.0) Gecko/20100101 Firefox/133.0';
const here = { id: 'a1', created_at: minutesAgo(30), last_seen_at: minutesAgo(1), user_agent: chromeLinux, ip: '203.0.113.9', current: true };
const phone = { id: 'b2', created_at: minutesAgo(3000), last_seen_at: minutesAgo(120), user_agent: firefoxMac, ip: '198.51.100.7', current: false };
const third = { ...phone, id: 'c3', user_agent: 'curl/8.5.0', ip: null };
const good = 'correct horse battery';

function renderAccount() {
  return renderRoutes([{ path: '/account', element: <AccountPage /> }], '/account');
}

const sessionItems = () => within(screen.getByRole('list', { name: 'Your sessions' })).getAllByRole('listitem');

describe('AccountPage: sessions', () => {
  it('lists where one is signed in, readable, with This browser', async () => {
    mockFetch({ 'GET /api/auth/sessions': { json: [here, phone] } });
    renderAccount();
    expect(screen.getByRole('heading', { level: 1, name: 'Your account' })).toBeInTheDocument();
    expect(screen.getByText('Ada Lovelace · ada@example.com · Admin')).toBeInTheDocument();
    await screen.findByRole('list', { name: 'Your sessions' });
    const [first, second] = sessionItems();
    expect(first).toHaveTextContent('Chrome on LinuxThis browser');
    expect(first).toHaveTextContent('203.0.113.9 · signed in 30 minutes ago · last seen 1 minute ago');
    expect(within(first!).queryByRole('button')).not.toBeInTheDocument();
    expect(second).toHaveTextContent('Firefox on macOS');
    expect(second).toHaveTextContent('last seen 2 hours ago');
  });

  it('signs out one other session, and all others', async () => {
    const { calls } = mockFetch({
      'GET /api/auth/sessions': { json: [here, phone, third] },
      'DELETE /api/auth/sessions/b2': { status: 204 },
      'POST /api/auth/sessions/sign-out-others': { json: { signed_out: 1 } },
    });
    const { user } = renderAccount();
    await screen.findByRole('list', { name: 'Your sessions' });
    await user.click(screen.getByRole('button', { name: 'Sign out Firefox on macOS (198.51.100.7)' }));
    await waitFor(() => expect(sessionItems()).toHaveLength(2));
    expect(screen.getByText('Signed out Firefox on macOS.')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Sign out all other sessions' }));
    await waitFor(() => expect(sessionItems()).toHaveLength(1));
    expect(screen.getByText('Signed out 1 other session.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Sign out all other sessions' })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.url}`)).toEqual([
      'DELETE /api/auth/sessions/b2',
      'POST /api/auth/sessions/sign-out-others',
    ]);
  });

  it('says so when signing out a session fails, and shows a failed list with Retry', async () => {
    mockFetch({
      'GET /api/auth/sessions': [server500, { json: [here, phone] }],
      'DELETE /api/auth/sessions/b2': nginx503,
    });
    const { user } = renderAccount();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load your sessions.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    await user.click(await screen.findByRole('button', { name: /^Sign out Firefox/ }));
    expect(await screen.findByRole('alert')).toHaveTextContent('temporarily unavailable');
    expect(sessionItems()).toHaveLength(2);
  });
});

describe('AccountPage: password', () => {
  async function fill(user: ReturnType<typeof renderAccount>['user'], current: string, next: string, again = next) {
    if (current) await user.type(screen.getByLabelText('Current password'), current);
    if (next) await user.type(screen.getByLabelText('New password'), next);
    if (again) await user.type(screen.getByLabelText('New password again'), again);
    await user.click(screen.getByRole('button', { name: 'Change password' }));
  }

  it('checks the rules first: 12 to 128 characters, the same twice, the current one given', async () => {
    const { calls } = mockFetch({ 'GET /api/auth/sessions': { json: [here] } });
    const { user } = renderAccount();
    await fill(user, '', 'short');
    expect(screen.getByLabelText('Current password')).toHaveAccessibleDescription('Enter your current password.');
    expect(screen.getByLabelText('Current password')).toHaveFocus();
    expect(screen.getByLabelText('New password')).toHaveAccessibleDescription(/at least 12 characters/);
    await user.clear(screen.getByLabelText('New password'));
    await user.clear(screen.getByLabelText('New password again'));
    await fill(user, 'old password!', good, `${good}!`);
    expect(screen.getByLabelText('New password again')).toHaveAccessibleDescription('The two passwords are not the same.');
    expect(calls.filter((c) => c.method === 'PUT')).toHaveLength(0);
  });

  it('changes it, says the other sessions ended, and shows the list again', async () => {
    const { calls } = mockFetch({
      'GET /api/auth/sessions': [{ json: [here, phone] }, { json: [here] }],
      'PUT /api/auth/password': { status: 204 },
    });
    const { user } = renderAccount();
    await screen.findByRole('list', { name: 'Your sessions' });
    await fill(user, 'old password!', good);
    expect(await screen.findByText('Your password was changed. Your other sessions were signed out.')).toBeInTheDocument();
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ current_password: 'old password!', new_password: good });
    await waitFor(() => expect(sessionItems()).toHaveLength(1));
    expect(screen.getByLabelText('New password')).toHaveValue('');
  });

  it('shows the API’s field errors next to their fields', async () => {
    mockFetch({
      'GET /api/auth/sessions': { json: [here] },
      'PUT /api/auth/password': [
        { status: 400, json: { current_password: ['Wrong password.'] } },
        { status: 400, json: { new_password: ['This password is too common.'] } },
      ],
    });
    const { user } = renderAccount();
    await fill(user, 'not it at all', good);
    const current = screen.getByLabelText('Current password');
    await waitFor(() => expect(current).toHaveAccessibleDescription('Wrong password.'));
    expect(current).toHaveValue('');
    expect(current).toHaveFocus();
    await user.type(current, 'old password!');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    await waitFor(() => expect(screen.getByLabelText('New password')).toHaveAccessibleDescription(/This password is too common./));
  });
});
