import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { auditEntry } from '@/testing/audit-entries';
import { mockFetch, server500 } from '@/testing/mock-fetch';
import { FIRST_PRODUCT_PAGE, productPage } from '@/testing/product-pages';
import { renderRoutes } from '@/testing/render';
import { CreateProductPage } from './CreateProductPage';
import { EditProductRoute } from './EditProductPage';
import { ProductListPage } from './ProductListPage';

const mug = { id: 5, title: 'Mug', image: '/img/mug.png', likes: 3 };
// Grace changed the image (version 5), then the title (version 6) while Ada edited.
const now = { ...mug, title: 'Tea mug', image: '/img/tea.png' };
const conflict412 = {
  status: 412,
  json: { error: 'The product changed since you read it', product: now },
  headers: { ETag: '"6"' },
};
const grace = { user_id: 4, name: 'Grace Hopper', token: null };
const history = [
  auditEntry({ id: 60, product_id: 5, product_version: 6, actor: grace, changes: { title: { old: 'Mug', new: 'Tea mug' } } }),
  auditEntry({ id: 59, product_id: 5, product_version: 5, actor: grace, changes: { image: { old: '/img/mug.png', new: '/img/tea.png' } } }),
  auditEntry({ id: 50, product_id: 5, product_version: 4, changes: { title: { old: 'Cup', new: 'Mug' } } }),
];

function renderEdit(as: 'admin' | 'viewer' = 'admin') {
  return renderRoutes(
    [
      { path: '/admin/products', element: <ProductListPage /> },
      { path: '/admin/products/create', element: <CreateProductPage /> },
      { path: '/admin/products/:id/edit', element: <EditProductRoute /> },
    ],
    '/admin/products/5/edit',
    undefined,
    { as },
  );
}

async function editTitle(user: ReturnType<typeof renderEdit>['user'], title: string) {
  const field = await screen.findByLabelText('Title');
  await user.clear(field);
  await user.type(field, title);
  await user.click(screen.getByRole('button', { name: 'Save changes' }));
}

const puts = (calls: ReturnType<typeof mockFetch>['calls']) => calls.filter((c) => c.method === 'PUT');

describe('EditProductPage: edit conflicts', () => {
  it('sends the ETag it read as If-Match, and links to the history', async () => {
    const { calls } = mockFetch({
      'GET /api/products/5': { json: mug, headers: { ETag: '"4"' } },
      'PUT /api/products/5': { status: 202, json: { ...mug, title: 'Big mug' }, headers: { ETag: '"5"' } },
      [FIRST_PRODUCT_PAGE]: productPage([mug]),
    });
    const { user } = renderEdit();
    expect(await screen.findByRole('link', { name: 'History' })).toHaveAttribute('href', '/admin/products/5/history');
    await editTitle(user, 'Big mug');
    expect(await screen.findByText('Saved “Big mug”.')).toBeInTheDocument();
    expect(puts(calls)[0]).toMatchObject({ body: { title: 'Big mug', image: mug.image }, headers: { 'if-match': '"4"' } });
  });

  it('sends no If-Match when the product came without an ETag', async () => {
    const { calls } = mockFetch({
      'GET /api/products/5': { json: mug },
      'PUT /api/products/5': { status: 202, json: mug },
      [FIRST_PRODUCT_PAGE]: productPage([mug]),
    });
    const { user } = renderEdit();
    await editTitle(user, 'Big mug');
    await screen.findByText('Saved “Mug”.');
    expect(puts(calls)[0]!.headers).toBeUndefined();
  });

  it('on 412 shows each edited field against the current value and who changed it since; Reapply sends them with the new ETag', async () => {
    const { calls } = mockFetch({
      'GET /api/products/5': { json: mug, headers: { ETag: '"4"' } },
      'PUT /api/products/5': [conflict412, { status: 202, json: { ...now, title: 'Big mug' }, headers: { ETag: '"7"' } }],
      'GET /api/products/5/history?limit=10': { json: history },
      [FIRST_PRODUCT_PAGE]: productPage([mug]),
    });
    const { user, router } = renderEdit();
    await editTitle(user, 'Big mug');

    const panel = await screen.findByRole('region', { name: 'This product changed while you were editing it' });
    expect(screen.getByRole('heading', { name: 'This product changed while you were editing it' })).toHaveFocus();
    expect(screen.queryByLabelText('Title')).not.toBeInTheDocument();
    const rows = within(within(panel).getByRole('table')).getAllByRole('row');
    // Only the field Ada edited: her value against the one saved now.
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveTextContent('TitleBig mugTea mug');
    const changes = await within(panel).findByRole('list', { name: 'Changes since you opened it' });
    const items = within(changes).getAllByRole('listitem').filter((li) => li.classList.contains('audit-entry'));
    // Newer than version 4, which Ada started from.
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('Grace Hopper edited “Tea mug”');
    expect(items[0]).toHaveTextContent('title: “Mug” → “Tea mug”');
    expect(items[1]).toHaveTextContent('image: “/img/mug.png” → “/img/tea.png”');

    await user.click(within(panel).getByRole('button', { name: 'Reapply my changes' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/admin/products'));
    // Her title on top of Grace's image, checked against the version she has now seen.
    expect(puts(calls)[1]).toMatchObject({ body: { title: 'Big mug', image: '/img/tea.png' }, headers: { 'if-match': '"6"' } });
  });

  it('Discard loads the current product into the form, which then saves against its ETag', async () => {
    const { calls } = mockFetch({
      'GET /api/products/5': { json: mug, headers: { ETag: '"4"' } },
      'PUT /api/products/5': [conflict412, { status: 202, json: now }],
      'GET /api/products/5/history?limit=10': { json: history },
      [FIRST_PRODUCT_PAGE]: productPage([now]),
    });
    const { user } = renderEdit();
    await editTitle(user, 'Big mug');
    await user.click(await screen.findByRole('button', { name: 'Discard my changes' }));
    expect(await screen.findByLabelText('Title')).toHaveValue('Tea mug');
    expect(screen.getByLabelText('Image URL')).toHaveValue('/img/tea.png');
    expect(screen.getByRole('status')).toHaveTextContent('Your changes were discarded');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    await screen.findByText('Saved “Tea mug”.');
    expect(puts(calls)[1]).toMatchObject({ body: { title: 'Tea mug', image: '/img/tea.png' }, headers: { 'if-match': '"6"' } });
  });

  it('shows the newest version when reapplying meets yet another change, and a failed history with Retry', async () => {
    const newest = { ...now, title: 'Coffee mug' };
    const { calls } = mockFetch({
      'GET /api/products/5': { json: mug, headers: { ETag: '"4"' } },
      'PUT /api/products/5': [
        conflict412,
        { status: 412, json: { error: 'The product changed since you read it', product: newest }, headers: { ETag: '"7"' } },
        { status: 202, json: { ...newest, title: 'Big mug' } },
      ],
      'GET /api/products/5/history?limit=10': [server500, { json: history }],
      [FIRST_PRODUCT_PAGE]: productPage([mug]),
    });
    const { user } = renderEdit();
    await editTitle(user, 'Big mug');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load who changed it.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    await screen.findByRole('list', { name: 'Changes since you opened it' });

    await user.click(screen.getByRole('button', { name: 'Reapply my changes' }));
    await waitFor(() => expect(screen.getByRole('table')).toHaveTextContent('Coffee mug'));
    await user.click(screen.getByRole('button', { name: 'Reapply my changes' }));
    await screen.findByText('Saved “Big mug”.');
    expect(puts(calls).map((c) => c.headers?.['if-match'])).toEqual(['"4"', '"6"', '"7"']);
  });

  it('says so when reapplying fails: a deleted product, an outage, an ended session', async () => {
    mockFetch({
      'GET /api/products/5': { json: mug, headers: { ETag: '"4"' } },
      'PUT /api/products/5': [conflict412, { status: 404, json: { error: 'Product not found' } }, server500, { status: 401, json: { error: 'Sign in required' } }],
      'GET /api/products/5/history?limit=10': { json: history },
    });
    const { user, router } = renderEdit();
    await editTitle(user, 'Big mug');
    const reapply = await screen.findByRole('button', { name: 'Reapply my changes' });
    await user.click(reapply);
    expect(await screen.findByRole('alert')).toHaveTextContent('This product no longer exists');
    await user.click(reapply);
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Something went wrong on the server'));
    await user.click(reapply);
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
  });

  it('back from signing in mid-save, checks the restored input against the version it started from', async () => {
    const { calls } = mockFetch({
      'GET /api/products/5': [{ json: mug, headers: { ETag: '"4"' } }, { json: now, headers: { ETag: '"6"' } }],
      'PUT /api/products/5': [{ status: 401, json: { error: 'Sign in required' } }, conflict412],
      'GET /api/products/5/history?limit=10': { json: history },
    });
    const first = renderEdit();
    await editTitle(first.user, 'Big mug');
    await waitFor(() => expect(first.router.state.location.pathname).toBe('/login'));
    first.unmount();

    const { user } = renderEdit();
    expect(await screen.findByLabelText('Title')).toHaveValue('Big mug');
    await user.click(screen.getByRole('button', { name: 'Save changes' }));
    expect(await screen.findByRole('heading', { name: 'This product changed while you were editing it' })).toBeInTheDocument();
    expect(puts(calls).map((c) => c.headers?.['if-match'])).toEqual(['"4"', '"4"']);
  });

  it('tells a viewer only admins can edit or add products', async () => {
    const { calls } = mockFetch({});
    renderEdit('viewer');
    expect(screen.getByRole('heading', { name: 'Only admins can edit products' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'See its history' })).toHaveAttribute('href', '/admin/products/5/history');
    expect(calls).toHaveLength(0);
    expect(screen.queryByLabelText('Title')).not.toBeInTheDocument();
  });

  it('tells a viewer only admins can add products', () => {
    mockFetch({});
    renderRoutes([{ path: '/admin/products/create', element: <CreateProductPage /> }], '/admin/products/create', undefined, { as: 'viewer' });
    expect(screen.getByRole('heading', { name: 'Only admins can add products' })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Create product' })).not.toBeInTheDocument();
  });
});
