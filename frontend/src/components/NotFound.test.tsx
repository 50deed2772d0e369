import { render, screen } from '@testing-library/react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { describe, expect, it } from 'vitest';
import { NotFound, NotFoundPage } from './NotFound';

describe('NotFound', () => {
  it('is a 404 page with a link home and a title', () => {
    const router = createMemoryRouter([{ path: '*', element: <NotFoundPage /> }], { initialEntries: ['/nope'] });
    render(<RouterProvider router={router} />);
    expect(screen.getByRole('heading', { level: 1, name: 'Page not found' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Go to the shop' })).toHaveAttribute('href', '/');
    expect(document.title).toBe('Page not found · Little Shop');
  });

  it('takes its own message and link', () => {
    const router = createMemoryRouter(
      [{ path: '*', element: <NotFound title="Product not found" linkTo="/admin/products" linkLabel="Back to products" /> }],
      { initialEntries: ['/x'] },
    );
    render(<RouterProvider router={router} />);
    expect(screen.getByRole('heading', { name: 'Product not found' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to products' })).toHaveAttribute('href', '/admin/products');
  });
});
