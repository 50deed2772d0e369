import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, matchRoutes, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';
import { editProductPath, paths, productHistoryPath } from '@/lib/paths';
import { mockFetch } from '@/testing/mock-fetch';
import { FIRST_PRODUCT_PAGE, productPage } from '@/testing/product-pages';
import { routes } from './routes';

const ada = { id: 3, name: 'Ada Lovelace', email: 'ada@example.com', role: 'admin' };
const RECENT = 'GET /api/audit?limit=10';
const mug = { id: 1, title: 'Mug', image: '/img/mug.png', likes: 0 };
const signInRequired = { status: 401, json: { error: 'Sign in required' } } as const;

function renderApp(path: string) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  render(<RouterProvider router={router} />);
  return { router, user: userEvent.setup() };
}

describe('app routes', () => {
  it('shows the 404 page, inside the layout, for an unknown path', () => {
    mockFetch({});
    renderApp('/no/such/page');
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Shop' })).toHaveAttribute('href', '/');
    expect(within(nav).getByRole('link', { name: 'Admin' })).toHaveAttribute('href', '/admin/products');
    expect(screen.getByRole('link', { name: 'Go to the shop' })).toHaveAttribute('href', '/');
  });

  it('navigates between the shop and the admin with the navbar', async () => {
    mockFetch({
      'GET /flask/api/products?limit=48': { json: [] },
      [FIRST_PRODUCT_PAGE]: productPage([]),
      'GET /api/auth/me': { json: ada },
      [RECENT]: { json: [] },
    });
    const { user, router } = renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Nothing in the shop yet' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Shop' })).toHaveAttribute('aria-current', 'page');
    expect(screen.queryByRole('region', { name: 'Your account' })).not.toBeInTheDocument();

    await user.click(within(nav).getByRole('link', { name: 'Admin' }));
    expect(router.state.location.pathname).toBe('/admin/products');
    expect(await screen.findByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
    // The admin pages have their own layout (with the account bar): the navbar is a new one.
    const adminNav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(adminNav).getByRole('link', { name: 'Admin' })).toHaveAttribute('aria-current', 'page');
    expect(document.title).toBe('Products · Little Shop');
    expect(screen.getByRole('region', { name: 'Your account' })).toHaveTextContent('Signed in as Ada Lovelace');
  });

  it('shows the gallery without asking who is signed in, and no sign-in prompt', async () => {
    const { calls } = mockFetch({ 'GET /flask/api/products?limit=48': { json: [mug] }, 'GET /flask/api/likes': { json: [] } });
    const { router } = renderApp('/');
    expect(await screen.findByRole('article', { name: 'Mug' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/');
    // Only the shop's API: the products and this shopper's likes; nothing of the admin's.
    expect(calls.map((c) => `${c.method} ${c.url}`).sort()).toEqual(['GET /flask/api/likes', 'GET /flask/api/products?limit=48']);
    expect(screen.queryByText(/sign in/i)).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Sign out' })).not.toBeInTheDocument();
  });

  it('sends /admin without a session to sign in, then to the product list', async () => {
    mockFetch({
      'GET /api/auth/me': [signInRequired, { json: ada }],
      'POST /api/auth/login': { json: ada },
      [FIRST_PRODUCT_PAGE]: productPage([]),
      [RECENT]: { json: [] },
    });
    const { router, user } = renderApp('/admin');
    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/login');
    expect(router.state.location.search).toBe('?next=%2Fadmin');
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse{Enter}');
    expect(await screen.findByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/admin/products');
  });

  it('keeps what the admin typed when the session ends while saving, and saves it after signing in', async () => {
    const created = { id: 9, title: 'Lamp', image: '/img/lamp.png', likes: 0 };
    const { calls } = mockFetch({
      'GET /api/auth/me': [{ json: ada }, { json: ada }],
      'POST /api/products': [signInRequired, { status: 201, json: created }],
      'POST /api/auth/login': { json: ada },
      [FIRST_PRODUCT_PAGE]: productPage([created]),
      [RECENT]: { json: [] },
    });
    const { router, user } = renderApp('/admin/products/create');
    await user.type(await screen.findByLabelText('Title'), 'Lamp');
    await user.type(screen.getByLabelText('Image URL'), '/img/lamp.png');
    await user.click(screen.getByRole('button', { name: 'Create product' }));

    // Sent to sign in, told why, and back afterwards.
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?next=%2Fadmin%2Fproducts%2Fcreate');
    expect(await screen.findByRole('status')).toHaveTextContent('Your session has ended.');
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'correct horse');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    // The form has what was typed, and says why.
    expect(await screen.findByLabelText('Title')).toHaveValue('Lamp');
    expect(router.state.location.pathname).toBe('/admin/products/create');
    expect(screen.getByLabelText('Image URL')).toHaveValue('/img/lamp.png');
    expect(screen.getByRole('status')).toHaveTextContent('Your session ended before this was saved. What you typed is back');
    await user.click(screen.getByRole('button', { name: 'Create product' }));
    expect(await screen.findByText('Added “Lamp”.')).toBeInTheDocument();
    expect(calls.filter((c) => c.url === '/api/products' && c.method === 'POST')).toHaveLength(2);

    // Shown once: a later visit to the form starts empty.
    await user.click(screen.getByRole('link', { name: 'Add product' }));
    expect(await screen.findByLabelText('Title')).toHaveValue('');
  });

  it('redirects /admin to the product list', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([]), 'GET /api/auth/me': { json: ada }, [RECENT]: { json: [] } });
    const { router } = renderApp('/admin');
    expect(await screen.findByRole('heading', { level: 1, name: 'Products' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/admin/products');
  });

  it('has a skip link to the main content', async () => {
    mockFetch({ 'GET /flask/api/products?limit=48': { json: [] } });
    const { user } = renderApp('/');
    await user.click(screen.getByRole('link', { name: 'Skip to main content' }));
    expect(screen.getByRole('main')).toHaveFocus();
  });

  it('has a route, not the 404 fallback, for every path in lib/paths', () => {
    for (const path of [...Object.values(paths).filter((p) => !p.includes(':')), editProductPath(5), productHistoryPath(5)]) {
      const leaf = matchRoutes(routes, path)?.at(-1)?.route;
      expect(leaf?.path, path).not.toBe('*');
      expect(leaf, path).toBeDefined();
    }
  });

  it('shows Recent actions beside the product table, and moves between the admin pages with the admin links', async () => {
    mockFetch({
      'GET /api/auth/me': { json: ada },
      [FIRST_PRODUCT_PAGE]: productPage([mug]),
      [RECENT]: { json: [] },
      'GET /api/audit': { json: [] },
      'GET /api/admins': { json: [] },
      'GET /api/tokens': { json: [] },
      'GET /api/auth/sessions': { json: [] },
    });
    const { user, router } = renderApp('/admin/products');
    const panel = await screen.findByRole('complementary', { name: 'Recent actions' });
    expect(await within(panel).findByText('Nothing has been done yet.')).toBeInTheDocument();
    for (const [name, path, heading] of [
      ['Recent actions', '/admin/audit', 'Recent actions'],
      ['Accounts', '/admin/accounts', 'Accounts'],
      ['Tokens', '/admin/tokens', 'API tokens'],
      ['Your account', '/account', 'Your account'],
    ] as const) {
      await user.click(within(screen.getByRole('navigation', { name: 'Admin' })).getByRole('link', { name }));
      expect(router.state.location.pathname).toBe(path);
      expect(await screen.findByRole('heading', { level: 1, name: heading })).toBeInTheDocument();
    }
  });

  it('shows the one-time link page without asking who is signed in', async () => {
    const { calls } = mockFetch({
      'POST /api/account-links/inspect': { json: { name: 'Grace Hopper', email: 'grace@example.com', expires_at: new Date().toISOString() } },
    });
    renderApp('/set-password#tok');
    expect(await screen.findByRole('heading', { name: 'Set a password for Grace Hopper (grace@example.com)' })).toBeInTheDocument();
    expect(calls.map((c) => c.url)).toEqual(['/api/account-links/inspect']);
    expect(screen.queryByRole('region', { name: 'Your account' })).not.toBeInTheDocument();
  });
});
