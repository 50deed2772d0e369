import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createMemoryRouter, matchRoutes, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';
import { editProductPath, paths } from '@/lib/paths';
import { mockFetch } from '@/testing/mock-fetch';
import { routes } from './routes';

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
    mockFetch({ 'GET /flask/api/products': { json: [] }, 'GET /api/products': { json: [] } });
    const { user, router } = renderApp('/');
    expect(await screen.findByRole('heading', { name: 'Nothing in the shop yet' })).toBeInTheDocument();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Shop' })).toHaveAttribute('aria-current', 'page');

    await user.click(within(nav).getByRole('link', { name: 'Admin' }));
    expect(router.state.location.pathname).toBe('/admin/products');
    expect(await screen.findByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
    expect(within(nav).getByRole('link', { name: 'Admin' })).toHaveAttribute('aria-current', 'page');
    expect(document.title).toBe('Products · Little Shop');
  });

  it('redirects /admin to the product list', async () => {
    mockFetch({ 'GET /api/products': { json: [] } });
    const { router } = renderApp('/admin');
    expect(await screen.findByRole('heading', { level: 1, name: 'Products' })).toBeInTheDocument();
    expect(router.state.location.pathname).toBe('/admin/products');
  });

  it('has a skip link to the main content', async () => {
    mockFetch({ 'GET /flask/api/products': { json: [] } });
    const { user } = renderApp('/');
    await user.click(screen.getByRole('link', { name: 'Skip to main content' }));
    expect(screen.getByRole('main')).toHaveFocus();
  });

  it('has a route, not the 404 fallback, for every path in lib/paths', () => {
    for (const path of [...Object.values(paths).filter((p) => !p.includes(':')), editProductPath(5)]) {
      const leaf = matchRoutes(routes, path)?.at(-1)?.route;
      expect(leaf?.path, path).not.toBe('*');
      expect(leaf, path).toBeDefined();
    }
  });
});
