import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { minutesAgo } from '@/testing/audit-entries';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { AccountsRoute } from './AccountsPage';

const ada = {
  id: 3,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  role: 'admin',
  disabled: false,
  password_set: true,
  created_at: minutesAgo(600),
  last_sign_in_at: minutesAgo(5),
};
const grace = { ...ada, id: 4, name: 'Grace Hopper', email: 'grace@example.com', role: 'viewer', password_set: false, last_sign_in_at: null };
const link = { link: '/set-password#abc123', expires_at: new Date(Date.now() + 72 * 3_600_000).toISOString() };
const lastAdmin = { status: 400, json: { error: 'Ada Lovelace is the last enabled admin; make another admin first' } };

function renderAccounts(as: 'admin' | 'viewer' = 'admin') {
  return renderRoutes([{ path: '/admin/accounts', element: <AccountsRoute /> }], '/admin/accounts', undefined, { as });
}

const row = (name: string) => screen.getByRole('rowheader', { name: new RegExp(`^${name}`) }).closest('tr')!;

describe('AccountsPage', () => {
  it('tells a viewer only admins can manage accounts, asking nothing', () => {
    const { calls } = mockFetch({});
    renderAccounts('viewer');
    expect(screen.getByRole('heading', { level: 1, name: 'Only admins can manage accounts' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Go to your account' })).toHaveAttribute('href', '/account');
    expect(calls).toHaveLength(0);
  });

  it('lists the accounts: name, email, role, status, password, last sign-in', async () => {
    mockFetch({ 'GET /api/admins': { json: [ada, grace] } });
    renderAccounts();
    await screen.findByRole('table', { name: 'Accounts' });
    expect(row('Ada Lovelace')).toHaveTextContent('ada@example.com');
    expect(row('Ada Lovelace')).toHaveTextContent('You');
    expect(row('Ada Lovelace')).toHaveTextContent('EnabledPassword set');
    expect(row('Ada Lovelace')).toHaveTextContent('5 minutes ago');
    expect(screen.getByRole('combobox', { name: 'Role of Grace Hopper' })).toHaveValue('viewer');
    expect(row('Grace Hopper')).toHaveTextContent('No password yet');
    expect(row('Grace Hopper')).toHaveTextContent('Never');
    expect(document.title).toBe('Accounts · Little Shop');
  });

  it('shows loading, then an error with Retry', async () => {
    mockFetch({ 'GET /api/admins': [server500, { json: [ada] }] });
    const { user } = renderAccounts();
    expect(screen.getByText('Loading accounts…')).toBeInTheDocument();
    const alert = await screen.findByRole('alert');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('rowheader', { name: /^Ada Lovelace/ })).toBeInTheDocument();
  });

  it('adds an admin and shows the one-time link as a full address to copy, with its expiry', async () => {
    const { calls } = mockFetch({
      'GET /api/admins': { json: [ada] },
      'POST /api/admins': { status: 201, json: { admin: grace, ...link } },
    });
    const { user } = renderAccounts();
    await screen.findByRole('table', { name: 'Accounts' });
    await user.type(screen.getByLabelText('Name'), ' Grace Hopper ');
    await user.type(screen.getByLabelText('Email'), 'grace@example.com');
    await user.selectOptions(screen.getByLabelText('Role'), 'Viewer');
    await user.click(screen.getByRole('button', { name: 'Add admin' }));

    const panel = await screen.findByRole('region', { name: 'Added Grace Hopper' });
    expect(within(panel).getByRole('heading', { name: 'Added Grace Hopper' })).toHaveFocus();
    const field = within(panel).getByLabelText('Sign-in link');
    expect(field).toHaveValue(`${window.location.origin}/set-password#abc123`);
    expect(panel).toHaveTextContent('in 3 days');
    await user.click(within(panel).getByRole('button', { name: 'Copy link' }));
    expect(await navigator.clipboard.readText()).toBe(`${window.location.origin}/set-password#abc123`);
    expect(within(panel).getByRole('status')).toHaveTextContent('Copied.');

    expect(calls.find((c) => c.method === 'POST')?.body).toEqual({ name: 'Grace Hopper', email: 'grace@example.com', role: 'viewer' });
    expect(row('Grace Hopper')).toBeInTheDocument();
    expect(screen.getByLabelText('Name')).toHaveValue('');
    await user.click(within(panel).getByRole('button', { name: 'Done' }));
    expect(screen.queryByRole('region', { name: 'Added Grace Hopper' })).not.toBeInTheDocument();
  });

  it('checks the form first, then shows the API’s field errors next to their fields', async () => {
    const { calls } = mockFetch({
      'GET /api/admins': { json: [ada] },
      'POST /api/admins': [{ status: 400, json: { email: ['An account with this email exists.'] } }, nginx503],
    });
    const { user } = renderAccounts();
    await screen.findByRole('table', { name: 'Accounts' });
    await user.click(screen.getByRole('button', { name: 'Add admin' }));
    expect(screen.getByLabelText('Name')).toHaveAccessibleDescription('Enter the person’s name.');
    expect(screen.getByLabelText('Name')).toHaveFocus();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    await user.type(screen.getByLabelText('Name'), 'Ada again');
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.click(screen.getByRole('button', { name: 'Add admin' }));
    const email = screen.getByLabelText('Email');
    await waitFor(() => expect(email).toHaveAccessibleDescription('An account with this email exists.'));
    expect(email).toHaveAttribute('aria-invalid', 'true');
    expect(email).toHaveFocus();

    await user.click(screen.getByRole('button', { name: 'Add admin' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The account was not added.');
    expect(alert).toHaveTextContent('The service is temporarily unavailable');
    expect(alert).toHaveFocus();
  });

  it('disables an account after confirming, and enables it again', async () => {
    const { calls } = mockFetch({
      'GET /api/admins': { json: [ada, grace] },
      'PATCH /api/admins/4': [{ json: { ...grace, disabled: true } }, { json: grace }],
    });
    const { user } = renderAccounts();
    await screen.findByRole('table', { name: 'Accounts' });
    await user.click(within(row('Grace Hopper')).getByRole('button', { name: 'Disable Grace Hopper' }));
    const dialog = screen.getByRole('dialog', { name: 'Disable Grace Hopper?' });
    expect(dialog).toHaveTextContent('signed out everywhere');
    await user.click(within(dialog).getByRole('button', { name: 'Disable' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(row('Grace Hopper')).toHaveTextContent('Disabled');
    expect(screen.getByRole('status')).toHaveTextContent('Grace Hopper is disabled');

    await user.click(within(row('Grace Hopper')).getByRole('button', { name: 'Enable Grace Hopper' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Enable Grace Hopper?' })).getByRole('button', { name: 'Enable' }));
    await waitFor(() => expect(row('Grace Hopper')).toHaveTextContent('Enabled'));
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ disabled: true }, { disabled: false }]);
  });

  it('shows the last-admin rule next to Disable and next to the role', async () => {
    mockFetch({ 'GET /api/admins': { json: [ada, grace] }, 'PATCH /api/admins/3': lastAdmin });
    const { user } = renderAccounts();
    await screen.findByRole('table', { name: 'Accounts' });
    const disable = screen.getByRole('button', { name: 'Disable Ada Lovelace' });
    await user.click(disable);
    expect(screen.getByRole('dialog')).toHaveTextContent('That includes you, here.');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Disable' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(disable).toHaveAccessibleDescription(lastAdmin.json.error);

    const role = screen.getByRole('combobox', { name: 'Role of Ada Lovelace' });
    await user.selectOptions(role, 'Viewer');
    await waitFor(() => expect(role).toHaveAccessibleDescription(lastAdmin.json.error));
    expect(role).toHaveValue('admin');
  });

  it('changes a role at once; one’s own asks who is signed in again', async () => {
    const { calls } = mockFetch({
      'GET /api/admins': { json: [ada, grace] },
      'PATCH /api/admins/4': { json: { ...grace, role: 'admin' } },
      'PATCH /api/admins/3': { json: { ...ada, role: 'viewer' } },
    });
    const { user, refreshes } = renderAccounts();
    await screen.findByRole('table', { name: 'Accounts' });
    await user.selectOptions(screen.getByRole('combobox', { name: 'Role of Grace Hopper' }), 'Admin');
    expect(await screen.findByRole('status')).toHaveTextContent('Grace Hopper is now an admin.');
    expect(refreshes.count).toBe(0);
    await user.selectOptions(screen.getByRole('combobox', { name: 'Role of Ada Lovelace' }), 'Viewer');
    await waitFor(() => expect(refreshes.count).toBe(1));
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => [c.url, c.body])).toEqual([
      ['/api/admins/4', { role: 'admin' }],
      ['/api/admins/3', { role: 'viewer' }],
    ]);
  });

  it('makes a new sign-in link for an account', async () => {
    mockFetch({ 'GET /api/admins': { json: [ada, grace] }, 'POST /api/admins/4/link': [server500, { status: 201, json: link }] });
    const { user } = renderAccounts();
    await screen.findByRole('table', { name: 'Accounts' });
    const button = screen.getByRole('button', { name: 'New sign-in link for Grace Hopper' });
    await user.click(button);
    await waitFor(() => expect(button).toHaveAccessibleDescription(/Something went wrong on the server/));
    await user.click(button);
    const panel = await screen.findByRole('region', { name: 'New sign-in link for Grace Hopper' });
    expect(panel).toHaveTextContent('earlier links for this account no longer work');
    expect(within(panel).getByLabelText('Sign-in link')).toHaveValue(`${window.location.origin}/set-password#abc123`);
  });
});
