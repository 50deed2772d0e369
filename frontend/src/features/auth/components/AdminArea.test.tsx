import { screen, waitFor, within } from '@testing-library/react';
import { Link } from 'react-router';
import { describe, expect, it } from 'vitest';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { readDraft, saveDraft } from '@/lib/drafts';
import { mockFetch, nginx503 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { AdminArea } from './AdminArea';
import { LoginPage } from './LoginPage';

const ada = { id: 3, name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' };

/** A page that shows what the admin area told it. */
function WhoAmI() {
  const me = useCurrentAdmin();
  return <p>Page sees {me ? `${me.name} (${me.role})` : 'nobody'}</p>;
}
const signInRequired = { status: 401, json: { error: 'Sign in required' } } as const;
const isAnything = (v: unknown): v is unknown => v !== undefined;

function renderAdmin(path = '/admin/products') {
  return renderRoutes(
    [
      {
        element: <AdminArea />,
        children: [
          {
            path: '/admin/products',
            element: (
              <>
                <h1>Products page</h1>
                <Link to="/admin/products/create">Add product</Link>
              </>
            ),
          },
          { path: '/admin/products/:id/edit', element: <h1>Edit page</h1> },
          { path: '/admin/products/create', element: <h1>Create page</h1> },
          { path: '/admin/who', element: <WhoAmI /> },
        ],
      },
      { path: '/login', element: <LoginPage /> },
    ],
    path,
  );
}

describe('AdminArea (the admin pages’ sign-in guard)', () => {
  it('shows nothing of the page while it asks who is signed in', () => {
    mockFetch({ 'GET /api/auth/me': 'pending' });
    renderAdmin();
    expect(screen.getByRole('status')).toHaveTextContent('Checking your sign-in…');
    expect(screen.queryByRole('heading', { name: 'Products page' })).not.toBeInTheDocument();
    expect(screen.getByRole('navigation', { name: 'Main' })).toBeInTheDocument();
  });

  it('shows the page, the signed-in admin’s name and Sign out', async () => {
    const { calls } = mockFetch({ 'GET /api/auth/me': { json: ada } });
    renderAdmin();
    expect(await screen.findByRole('heading', { name: 'Products page' })).toBeInTheDocument();
    const account = screen.getByRole('region', { name: 'Your account' });
    expect(account).toHaveTextContent('Signed in as Ada Lovelace');
    expect(within(account).getByRole('button', { name: 'Sign out' })).toBeEnabled();
    expect(calls[0]).toMatchObject({ method: 'GET', url: '/api/auth/me', credentials: 'same-origin' });
  });

  it('sends a visitor without a session to the sign-in page, and back after signing in', async () => {
    mockFetch({
      'GET /api/auth/me': [signInRequired, { json: ada }],
      'POST /api/auth/login': { json: ada },
    });
    const { router, user } = renderAdmin('/admin/products/5/edit?tab=image');
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?next=%2Fadmin%2Fproducts%2F5%2Fedit%3Ftab%3Dimage');
    expect(router.state.historyAction).toBe('REPLACE');
    // Never signed in here: no "session ended" notice.
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Edit page' })).not.toBeInTheDocument();

    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByRole('heading', { name: 'Edit page' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/admin/products/5/edit');
    expect(router.state.location.search).toBe('?tab=image');
    expect(screen.getByRole('region', { name: 'Your account' })).toHaveTextContent('Signed in as Ada Lovelace');
  });

  it('checks again on each admin page: a session that ended meanwhile goes to sign in, saying so', async () => {
    mockFetch({ 'GET /api/auth/me': [{ json: ada }, signInRequired] });
    const { router, user } = renderAdmin();
    await user.click(await screen.findByRole('link', { name: 'Add product' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?next=%2Fadmin%2Fproducts%2Fcreate');
    expect(await screen.findByRole('status')).toHaveTextContent('Your session has ended.');
  });

  it('does not send the admin to sign in when the check fails for another reason; Retry asks again', async () => {
    mockFetch({ 'GET /api/auth/me': [nginx503, { json: ada }] });
    const { router, user } = renderAdmin();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t check your sign-in.');
    expect(alert).toHaveTextContent('temporarily unavailable');
    expect(router.state.location.pathname).toBe('/admin/products');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { name: 'Products page' })).toBeInTheDocument();
  });

  it('signs out: the session is deleted on the server, drafts are forgotten, then the sign-in page', async () => {
    const { calls } = mockFetch({ 'GET /api/auth/me': { json: ada }, 'POST /api/auth/logout': { status: 204 } });
    saveDraft('/admin/products/create', { title: 'Half-typed', image: '' });
    const { router, user } = renderAdmin();
    await user.click(await screen.findByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('');
    expect(await screen.findByRole('status')).toHaveTextContent('You have signed out.');
    expect(calls.filter((c) => c.method === 'POST')).toEqual([
      { method: 'POST', url: '/api/auth/logout', body: undefined, credentials: 'same-origin' },
    ]);
    expect(readDraft('/admin/products/create', isAnything)).toBeNull();
  });

  it('says so when signing out fails, and stays', async () => {
    mockFetch({ 'GET /api/auth/me': { json: ada }, 'POST /api/auth/logout': [nginx503, 'pending'] });
    const { router, user } = renderAdmin();
    await user.click(await screen.findByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You are still signed in. The service is temporarily unavailable.');
    expect(router.state.location.pathname).toBe('/admin/products');
    // Trying again shows that it is busy.
    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(screen.getByRole('button', { name: 'Signing out…' })).toBeDisabled();
  });

  it('with ADMIN_AUTH=disabled shows who may change the catalogue, and no Sign out', async () => {
    mockFetch({ 'GET /api/auth/me': { json: { id: 0, name: 'Anyone (ADMIN_AUTH=disabled)', email: '' } } });
    renderAdmin();
    expect(await screen.findByRole('heading', { name: 'Products page' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Your account' })).toHaveTextContent('Anyone (ADMIN_AUTH=disabled)');
    expect(screen.queryByRole('button', { name: 'Sign out' })).not.toBeInTheDocument();
  });

  it('gives its pages the account and role, and links an admin to every admin page', async () => {
    mockFetch({ 'GET /api/auth/me': { json: ada } });
    renderAdmin('/admin/who');
    expect(await screen.findByText('Page sees Ada Lovelace (admin)')).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Admin' });
    expect(within(nav).getAllByRole('link').map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['Products', '/admin/products'],
      ['Recent actions', '/admin/audit'],
      ['Accounts', '/admin/accounts'],
      ['Tokens', '/admin/tokens'],
      ['Your account', '/account'],
    ]);
  });

  it('links a viewer to no Accounts page, and says they are a viewer', async () => {
    mockFetch({ 'GET /api/auth/me': { json: { ...ada, role: 'viewer' } } });
    renderAdmin('/admin/who');
    expect(await screen.findByText('Page sees Ada Lovelace (viewer)')).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Admin' });
    expect(within(nav).queryByRole('link', { name: 'Accounts' })).not.toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Tokens' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Your account' })).toHaveTextContent('Signed in as Ada LovelaceViewer');
  });

  it('reads an account without a role (an admin-svc from before roles) as an admin, an unknown role as a viewer', async () => {
    mockFetch({ 'GET /api/auth/me': { json: { id: 3, name: 'Ada Lovelace', email: 'ada@example.com' } } });
    const first = renderAdmin('/admin/who');
    expect(await screen.findByText('Page sees Ada Lovelace (admin)')).toBeInTheDocument();
    first.unmount();
    mockFetch({ 'GET /api/auth/me': { json: { ...ada, role: 'superuser' } } });
    renderAdmin('/admin/who');
    expect(await screen.findByText('Page sees Ada Lovelace (viewer)')).toBeInTheDocument();
  });
});
