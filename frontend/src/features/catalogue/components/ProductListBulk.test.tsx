import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, nginx503 } from '@/testing/mock-fetch';
import { FIRST_PRODUCT_PAGE, productPage } from '@/testing/product-pages';
import { renderRoutes } from '@/testing/render';
import { ProductListPage } from './ProductListPage';

const products = Array.from({ length: 12 }, (_, i) => ({ id: 12 - i, title: `Lamp ${12 - i}`, image: '/img/l.png', likes: 0 }));
const SECOND_PAGE = 'GET /api/products?sort=-id&page=2&per_page=25';

function renderList(as: 'admin' | 'viewer' = 'admin', path = '/admin/products') {
  return renderRoutes(
    [
      {
        path: '/admin/products',
        element: <ProductListPage aside={(changes) => <p>Aside after {changes} changes</p>} />,
      },
    ],
    path,
    undefined,
    { as },
  );
}

const box = (title: string) => screen.getByRole('checkbox', { name: `Select ${title}` });
const selectAll = () => screen.getByRole('checkbox', { name: 'Select all on this page' });
const deleteSelected = () => screen.getByRole('button', { name: /^Delete selected/ });

describe('ProductListPage for a viewer', () => {
  it('shows no control a viewer cannot use, but History', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: productPage(products.slice(0, 2)) });
    renderList('viewer');
    await screen.findByRole('table');
    expect(screen.getByRole('link', { name: 'History of Lamp 12' })).toHaveAttribute('href', '/admin/products/12/history');
    expect(screen.queryByRole('link', { name: 'Add product' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: /^Edit / })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /^Delete/ })).not.toBeInTheDocument();
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Refresh' })).toBeInTheDocument();
  });

  it('does not offer to add the first product', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([]) });
    renderList('viewer');
    expect(await screen.findByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Add your first product' })).not.toBeInTheDocument();
  });
});

describe('ProductListPage bulk selection', () => {
  it('selects rows one by one, a range with Shift, and all on the page', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: productPage(products) });
    const { user } = renderList();
    await screen.findByRole('table');
    expect(deleteSelected()).toBeDisabled();
    expect(deleteSelected()).toHaveTextContent('Delete selected (0)');

    await user.click(box('Lamp 11'));
    expect(box('Lamp 11')).toBeChecked();
    expect(selectAll()).toHaveProperty('indeterminate', true);
    await user.keyboard('{Shift>}');
    await user.click(box('Lamp 8'));
    await user.keyboard('{/Shift}');
    for (const n of [11, 10, 9, 8]) expect(box(`Lamp ${n}`)).toBeChecked();
    expect(box('Lamp 12')).not.toBeChecked();
    expect(box('Lamp 7')).not.toBeChecked();
    expect(deleteSelected()).toHaveTextContent('Delete selected (4)');
    expect(deleteSelected()).toBeEnabled();

    await user.click(selectAll());
    expect(screen.getAllByRole('checkbox', { name: /^Select Lamp/ }).every((b) => (b as HTMLInputElement).checked)).toBe(true);
    expect(selectAll()).toBeChecked();
    expect(deleteSelected()).toHaveTextContent('Delete selected (12)');
    await user.click(selectAll());
    expect(deleteSelected()).toHaveTextContent('Delete selected (0)');
  });

  it('names how many and which in the dialog (ten titles, then “and N more”), then deletes them in one request', async () => {
    const { calls } = mockFetch({
      [FIRST_PRODUCT_PAGE]: [productPage(products), productPage(products.slice(0, 1), 1)],
      'POST /api/products/bulk-delete': {
        json: {
          deleted: 10,
          not_found: 2,
          results: products.map((p, i) => ({ id: p.id, outcome: i === 3 || i === 5 ? 'not_found' : 'deleted' })),
        },
      },
    });
    const { user } = renderList();
    await screen.findByRole('table');
    expect(screen.getByText('Aside after 0 changes')).toBeInTheDocument();
    await user.click(selectAll());
    await user.click(deleteSelected());

    const dialog = screen.getByRole('dialog', { name: 'Delete 12 products?' });
    const listed = within(within(dialog).getByRole('list', { name: 'Products to delete' })).getAllByRole('listitem');
    expect(listed.map((li) => li.textContent)).toEqual([...products.slice(0, 10).map((p) => `“${p.title}”`), 'and 2 more']);
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));

    const status = await screen.findByText(/^Deleted 10 products\./);
    expect(status).toHaveTextContent('Deleted 10 products. 2 were already gone: “Lamp 9”, “Lamp 7”.');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.body).toEqual({ ids: products.map((p) => p.id) });
    // The selection is cleared and the page asked for again; the aside hears of the change.
    await waitFor(() => expect(calls.filter((c) => c.url.startsWith('/api/products?'))).toHaveLength(2));
    expect(await screen.findByRole('checkbox', { name: 'Select Lamp 12' })).not.toBeChecked();
    expect(deleteSelected()).toHaveTextContent('Delete selected (0)');
    expect(screen.getByText('Aside after 1 changes')).toBeInTheDocument();
  });

  it('keeps the dialog and the selection when the bulk delete fails', async () => {
    mockFetch({
      [FIRST_PRODUCT_PAGE]: productPage(products),
      'POST /api/products/bulk-delete': [nginx503, { status: 400, json: { ids: ['Ensure this field has no more than 500 elements.'] } }],
    });
    const { user } = renderList();
    await screen.findByRole('table');
    await user.click(box('Lamp 12'));
    await user.click(deleteSelected());
    const dialog = screen.getByRole('dialog', { name: 'Delete 1 product?' });
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Nothing was deleted. The service is temporarily unavailable');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(within(dialog).getByRole('alert')).toHaveTextContent('no more than 500'));
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(box('Lamp 12')).toBeChecked();
  });

  it('sends the admin to sign in when the session has ended', async () => {
    mockFetch({
      [FIRST_PRODUCT_PAGE]: productPage(products),
      'POST /api/products/bulk-delete': { status: 401, json: { error: 'Sign in required' } },
    });
    const { user, router } = renderList();
    await screen.findByRole('table');
    await user.click(box('Lamp 12'));
    await user.click(deleteSelected());
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
  });

  it('clears the selection when the page, search or sort changes', async () => {
    mockFetch({
      [FIRST_PRODUCT_PAGE]: productPage(products, 30),
      [SECOND_PAGE]: productPage(products, 30),
      'GET /api/products?sort=title&page=1&per_page=25': productPage(products, 30),
    });
    const { user } = renderList();
    await screen.findByRole('table');
    await user.click(box('Lamp 12'));
    await user.click(within(screen.getByRole('navigation', { name: 'Pages' })).getByRole('link', { name: 'Page 2' }));
    await waitFor(() => expect(deleteSelected()).toHaveTextContent('Delete selected (0)'));
    expect(box('Lamp 12')).not.toBeChecked();

    await user.click(box('Lamp 11'));
    expect(deleteSelected()).toHaveTextContent('Delete selected (1)');
    await user.click(screen.getByRole('link', { name: /^Title/ }));
    await waitFor(() => expect(deleteSelected()).toHaveTextContent('Delete selected (0)'));
  });

  it('counts only selected rows still on the page after a Refresh', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: [productPage(products), productPage(products.slice(1))] });
    const { user } = renderList();
    await screen.findByRole('table');
    await user.click(box('Lamp 12'));
    await user.click(box('Lamp 11'));
    expect(deleteSelected()).toHaveTextContent('Delete selected (2)');
    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(screen.queryByRole('checkbox', { name: 'Select Lamp 12' })).not.toBeInTheDocument());
    expect(deleteSelected()).toHaveTextContent('Delete selected (1)');
    expect(box('Lamp 11')).toBeChecked();
  });
});
