import { render, screen } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it, vi } from 'vitest';
import { RouteErrorPage } from './RouteErrorPage';

function Broken(): never {
  throw new Error('render failed');
}

function renderAt(path: string) {
  const router = createMemoryRouter(
    [{ path: '/', errorElement: <RouteErrorPage />, children: [{ path: 'broken', element: <Broken /> }] }],
    { initialEntries: [path] },
  );
  render(<RouterProvider router={router} />);
}

describe('RouteErrorPage', () => {
  it('replaces a page that throws with a way out: reload it, or go to the shop', () => {
    // React and the router report the error on the console; the page is what users see.
    vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    renderAt('/broken');
    expect(screen.getByRole('alert')).toHaveTextContent('Something went wrong');
    expect(screen.getByRole('link', { name: 'Reload' })).toHaveAttribute('href', window.location.pathname);
    expect(screen.getByRole('link', { name: 'Go to the shop' })).toHaveAttribute('href', '/');
    expect(document.title).toBe('Something went wrong · Little Shop');
  });

  it('shows the 404 page when no route matches, not the error', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    renderAt('/no/such/page');
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
