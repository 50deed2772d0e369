import { act, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { FIRST_PRODUCT_PAGE, productPage } from '@/testing/product-pages';
import { renderRoutes } from '@/testing/render';
import { ProductListPage } from './ProductListPage';

const mug = { id: 1, title: 'Mug', image: 'https://example.com/mug.png', likes: 2 };
const lamp = { id: 2, title: 'Lamp', image: '/img/lamp.png', likes: 0 };
const vase = { id: 3, title: 'Vase', image: '/img/vase.png', likes: 5 };

/** The request the table sends for a state (`q` only when searching). */
function pageRequest({ q, sort = '-id', page = 1, perPage = 25 }: { q?: string; sort?: string; page?: number; perPage?: number } = {}) {
  const params = new URLSearchParams();
  if (q !== undefined) params.set('q', q);
  params.set('sort', sort);
  params.set('page', String(page));
  params.set('per_page', String(perPage));
  return `GET /api/products?${params.toString()}`;
}

function renderList(path = '/admin/products', state?: unknown) {
  return renderRoutes([{ path: '/admin/products', element: <ProductListPage /> }], path, state);
}

function row(title: string) {
  return screen.getByRole('rowheader', { name: new RegExp(`^${title}`) }).closest('tr')!;
}

function titles() {
  return screen.queryAllByRole('rowheader').map((cell) => cell.textContent?.replace(/(https?:\/\/|\/).*$/, ''));
}

function pages() {
  return screen.getByRole('navigation', { name: 'Pages' });
}

function header(name: string) {
  return screen.getByRole('columnheader', { name });
}

/** The URL the router is at (path and search). */
function at(router: ReturnType<typeof renderList>['router']) {
  return `${router.state.location.pathname}${router.state.location.search}`;
}

/**
 * A `fetch` whose answers the test sends, in any order; an answer sent after its request
 * was aborted still arrives (as one already on its way would).
 */
function controlledFetch() {
  const waiting: { url: string; signal: AbortSignal | undefined; resolve: (response: Response) => void }[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return new Promise<Response>((resolve) => waiting.push({ url, signal: init?.signal ?? undefined, resolve }));
  });
  return {
    requests: () => waiting.map((w) => w.url),
    signalOf: (url: string) => waiting.find((w) => w.url === url)?.signal,
    async answer(url: string, products: unknown[], total = products.length) {
      const request = waiting.find((w) => w.url === url);
      if (!request) throw new Error(`no request for ${url}`);
      await act(async () => {
        request.resolve(
          new Response(JSON.stringify(products), {
            headers: { 'Content-Type': 'application/json', 'X-Total-Count': String(total) },
          }),
        );
        await Promise.resolve();
      });
    },
  };
}

describe('ProductListPage', () => {
  it('shows a loading state', () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: 'pending' });
    renderList();
    expect(screen.getByRole('status')).toHaveTextContent('Loading products…');
    expect(document.title).toBe('Products · Little Shop');
  });

  it('asks for the first page, newest first, and shows it with thumbnails, titles, likes, Edit and Delete', async () => {
    const { calls } = mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([lamp, mug]) });
    renderList();
    const table = await screen.findByRole('table');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /api/products?sort=-id&page=1&per_page=25']);
    expect(within(table).getAllByRole('row')).toHaveLength(3);
    expect(titles()).toEqual(['Lamp', 'Mug']);
    const mugRow = row('Mug');
    expect(within(mugRow).getByRole('img', { name: 'Mug' })).toHaveAttribute('src', mug.image);
    // Cells (the title is a row header): selection, id, image, likes, actions.
    expect(within(mugRow).getAllByRole('cell')[3]).toHaveTextContent('2');
    expect(within(mugRow).getByRole('link', { name: 'History of Mug' })).toHaveAttribute('href', '/admin/products/1/history');
    expect(within(mugRow).getByRole('link', { name: 'Edit Mug' })).toHaveAttribute('href', '/admin/products/1/edit');
    expect(within(mugRow).getByRole('button', { name: 'Delete Mug' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Add product' })).toHaveAttribute('href', '/admin/products/create');
    expect(screen.getByText('2 products')).toBeInTheDocument();
    expect(table).toHaveAttribute('aria-busy', 'false');
    // One page: no page links.
    expect(screen.queryByRole('navigation', { name: 'Pages' })).not.toBeInTheDocument();
  });

  it('renders a shared link as that search, sort, page and page size, asking the API for exactly that', async () => {
    const request = pageRequest({ q: 'blue wid', sort: 'title', page: 3, perPage: 50 });
    const { calls } = mockFetch({ [request]: productPage([mug], 180) });
    renderList('/admin/products?q=blue+wid&sort=title&page=3&per_page=50');
    await screen.findByRole('table');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'GET /api/products?q=blue+wid&sort=title&page=3&per_page=50',
    ]);
    expect(screen.getByRole('searchbox', { name: 'Search products' })).toHaveValue('blue wid');
    expect(screen.getByRole('combobox', { name: 'Per page' })).toHaveValue('50');
    expect(header('Title')).toHaveAttribute('aria-sort', 'ascending');
    expect(header('ID')).not.toHaveAttribute('aria-sort');
    expect(within(pages()).getByRole('link', { name: 'Page 3' })).toHaveAttribute('aria-current', 'page');
    expect(screen.getByText('180 products').parentElement).toHaveTextContent('180 products matching “blue wid” · page 3 of 4');
    // Every link keeps the search, sort and page size.
    expect(within(pages()).getByRole('link', { name: 'Next page' })).toHaveAttribute(
      'href',
      '/admin/products?q=blue+wid&sort=title&page=4&per_page=50',
    );
  });

  it('reads unknown or out-of-range URL values as the defaults', async () => {
    const { calls } = mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([mug]) });
    renderList('/admin/products?sort=price&page=-2&per_page=7&q=%20%20');
    await screen.findByRole('table');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([FIRST_PRODUCT_PAGE]);
    expect(header('ID')).toHaveAttribute('aria-sort', 'descending');
  });

  it('shows the total with thousands separators and links to the first, previous, nearby, next and last pages', async () => {
    mockFetch({
      [FIRST_PRODUCT_PAGE]: productPage([vase, lamp], 1234),
      [pageRequest({ page: 10 })]: productPage([mug], 1234),
    });
    const { user, router } = renderList();
    await screen.findByRole('table');
    expect(screen.getByText('1,234 products')).toBeInTheDocument();
    expect(screen.getByText(/page 1 of 50/)).toBeInTheDocument();

    let nav = pages();
    // On page 1 there is nowhere back to go: First and Previous are not links.
    expect(within(nav).queryByRole('link', { name: 'First page' })).not.toBeInTheDocument();
    expect(within(nav).queryByRole('link', { name: 'Previous page' })).not.toBeInTheDocument();
    expect(within(nav).getAllByRole('link').map((a) => [a.getAttribute('aria-label'), a.getAttribute('href')])).toEqual([
      ['Page 1', '/admin/products'],
      ['Page 2', '/admin/products?page=2'],
      ['Page 3', '/admin/products?page=3'],
      ['Page 4', '/admin/products?page=4'],
      ['Page 5', '/admin/products?page=5'],
      ['Next page', '/admin/products?page=2'],
      ['Last page', '/admin/products?page=50'],
    ]);
    expect(within(nav).getByRole('link', { name: 'Page 1' })).toHaveAttribute('aria-current', 'page');
    expect(within(nav).getByRole('link', { name: 'Page 2' })).not.toHaveAttribute('aria-current');

    await act(() => router.navigate('/admin/products?page=10'));
    await screen.findByRole('rowheader', { name: /^Mug/ });
    nav = pages();
    expect(within(nav).getAllByRole('link').map((a) => [a.getAttribute('aria-label'), a.getAttribute('href')])).toEqual([
      ['First page', '/admin/products'],
      ['Previous page', '/admin/products?page=9'],
      ['Page 8', '/admin/products?page=8'],
      ['Page 9', '/admin/products?page=9'],
      ['Page 10', '/admin/products?page=10'],
      ['Page 11', '/admin/products?page=11'],
      ['Page 12', '/admin/products?page=12'],
      ['Next page', '/admin/products?page=11'],
      ['Last page', '/admin/products?page=50'],
    ]);
    expect(within(nav).getByRole('link', { name: 'Page 10' })).toHaveAttribute('aria-current', 'page');

    await user.click(within(nav).getByRole('link', { name: 'First page' }));
    expect(at(router)).toBe('/admin/products');
  });

  it('brings the top of the table back into view when a page link below it is followed', async () => {
    mockFetch({
      [FIRST_PRODUCT_PAGE]: productPage([vase], 60),
      [pageRequest({ page: 2 })]: productPage([mug], 60),
      [pageRequest({ sort: 'title' })]: productPage([mug], 60),
    });
    const scrolled: Element[] = [];
    const scrollIntoView = vi.fn(function (this: Element) {
      scrolled.push(this);
    });
    Object.defineProperty(Element.prototype, 'scrollIntoView', { configurable: true, value: scrollIntoView });
    try {
      const { user } = renderList();
      await screen.findByRole('table');
      const results = screen.getByText('60 products').closest('p')!.parentElement!.parentElement!;
      // Scrolled down to the page links: the table's top is above the viewport.
      vi.spyOn(results, 'getBoundingClientRect').mockReturnValue(new DOMRect(0, -800, 600, 1200));
      await user.click(within(pages()).getByRole('link', { name: 'Next page' }));
      await waitFor(() => expect(scrollIntoView).toHaveBeenCalledTimes(1));
      expect(scrolled).toEqual([results]);
      expect(scrollIntoView).toHaveBeenCalledWith({ block: 'start' });
      // In view already (e.g. a sort header was clicked): no scrolling.
      vi.spyOn(results, 'getBoundingClientRect').mockReturnValue(new DOMRect(0, 120, 600, 1200));
      await user.click(within(header('Title')).getByRole('link', { name: 'Title' }));
      expect(scrollIntoView).toHaveBeenCalledTimes(1);
    } finally {
      delete (Element.prototype as Partial<Element>).scrollIntoView;
    }
  });

  it('on the last page offers no Next or Last link', async () => {
    mockFetch({ [pageRequest({ page: 3 })]: productPage([mug], 60) });
    renderList('/admin/products?page=3');
    await screen.findByRole('table');
    const nav = pages();
    expect(within(nav).getAllByRole('link').map((a) => a.getAttribute('aria-label'))).toEqual([
      'First page',
      'Previous page',
      'Page 1',
      'Page 2',
      'Page 3',
    ]);
    expect(within(nav).getByText('Last page')).toBeInTheDocument();
  });

  it('keeps the previous rows, dimmed and aria-busy, while the next page loads', async () => {
    const server = controlledFetch();
    const { user, router } = renderList();
    await server.answer(pageRequest().slice(4), [vase, lamp], 30);
    await screen.findByRole('table');

    await user.click(within(pages()).getByRole('link', { name: 'Next page' }));
    expect(at(router)).toBe('/admin/products?page=2');
    expect(server.requests()).toContain(pageRequest({ page: 2 }).slice(4));
    // Still the first page's rows, marked busy; the new page is already the current link.
    expect(titles()).toEqual(['Vase', 'Lamp']);
    expect(screen.getByRole('table')).toHaveAttribute('aria-busy', 'true');
    expect(within(pages()).getByRole('link', { name: 'Page 2' })).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('status')).toHaveTextContent('Loading products…');
    expect(screen.getByRole('button', { name: 'Refresh' })).toBeDisabled();

    await server.answer(pageRequest({ page: 2 }).slice(4), [mug], 30);
    await waitFor(() => expect(titles()).toEqual(['Mug']));
    expect(screen.getByRole('table')).toHaveAttribute('aria-busy', 'false');
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it('never lets an older answer overwrite a newer one (the older request is aborted too)', async () => {
    const server = controlledFetch();
    const { user } = renderList();
    const first = pageRequest().slice(4);
    const second = pageRequest({ page: 2 }).slice(4);
    const third = pageRequest({ page: 3 }).slice(4);
    await server.answer(first, [vase], 75);
    await screen.findByRole('table');

    await user.click(within(pages()).getByRole('link', { name: 'Page 2' }));
    await user.click(within(pages()).getByRole('link', { name: 'Page 3' }));
    expect(server.requests()).toEqual([first, second, third]);
    expect(server.signalOf(second)?.aborted).toBe(true);
    expect(server.signalOf(third)?.aborted).toBe(false);

    // The newer answer first, then the older one, late.
    await server.answer(third, [mug], 75);
    await waitFor(() => expect(titles()).toEqual(['Mug']));
    await server.answer(second, [lamp], 75);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(titles()).toEqual(['Mug']);
    expect(screen.getByText(/page 3 of 3/)).toBeInTheDocument();
    expect(screen.getByRole('table')).toHaveAttribute('aria-busy', 'false');
  });

  it('searches when the search is submitted (Enter or the button), from page 1', async () => {
    const { calls } = mockFetch({
      [pageRequest({ page: 4 })]: productPage([mug], 100),
      [pageRequest({ q: 'blue lamp' })]: productPage([lamp]),
      [pageRequest({ q: 'mug' })]: productPage([mug]),
    });
    const { user, router } = renderList('/admin/products?page=4');
    await screen.findByRole('table');
    const box = screen.getByRole('searchbox', { name: 'Search products' });
    await user.type(box, '  blue lamp ');
    // Typing alone asks nothing.
    expect(calls).toHaveLength(1);
    await user.keyboard('{Enter}');
    expect(at(router)).toBe('/admin/products?q=blue+lamp');
    await waitFor(() => expect(titles()).toEqual(['Lamp']));
    expect(calls.at(-1)?.url).toBe('/api/products?q=blue+lamp&sort=-id&page=1&per_page=25');
    expect(screen.getByText('1 product').parentElement).toHaveTextContent('1 product matching “blue lamp”');

    await user.clear(box);
    await user.type(box, 'mug');
    await user.click(screen.getByRole('button', { name: 'Search' }));
    expect(at(router)).toBe('/admin/products?q=mug');
    await waitFor(() => expect(titles()).toEqual(['Mug']));

    // Back shows the earlier search, in the box too.
    await act(() => router.navigate(-1));
    await waitFor(() => expect(titles()).toEqual(['Lamp']));
    expect(box).toHaveValue('blue lamp');

    // The search can be left with a link.
    await user.click(screen.getByRole('link', { name: 'Show all products' }));
    expect(at(router)).toBe('/admin/products');
    expect(box).toHaveValue('');
  });

  it('submitting the same search again asks again', async () => {
    const { calls } = mockFetch({ [pageRequest({ q: 'mug' })]: productPage([mug]) });
    const { user } = renderList('/admin/products?q=mug');
    await screen.findByRole('table');
    await user.type(screen.getByRole('searchbox', { name: 'Search products' }), '{Enter}');
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]?.url).toBe(calls[0]?.url);
  });

  it('changing the page size goes back to page 1, keeping the search and sort', async () => {
    const { calls } = mockFetch({
      [pageRequest({ q: 'mug', sort: 'likes', page: 3 })]: productPage([mug], 300),
      [pageRequest({ q: 'mug', sort: 'likes', perPage: 100 })]: productPage([mug, lamp], 300),
    });
    const { user, router } = renderList('/admin/products?q=mug&sort=likes&page=3');
    await screen.findByRole('table');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Per page' }), '100');
    expect(at(router)).toBe('/admin/products?q=mug&sort=likes&per_page=100');
    await waitFor(() => expect(titles()).toEqual(['Mug', 'Lamp']));
    expect(calls.at(-1)?.url).toBe('/api/products?q=mug&sort=likes&page=1&per_page=100');
    expect(within(pages()).getByRole('link', { name: 'Page 1' })).toHaveAttribute('aria-current', 'page');
    expect(within(pages()).getByRole('link', { name: 'Last page' })).toHaveAttribute(
      'href',
      '/admin/products?q=mug&sort=likes&page=3&per_page=100',
    );
  });

  it('sorts by a column when its header is clicked, toggling the direction, with aria-sort on the sorted column', async () => {
    const { calls } = mockFetch({
      [pageRequest({ page: 2 })]: productPage([vase, lamp, mug], 60),
      [pageRequest({ sort: 'title' })]: productPage([lamp, mug, vase], 60),
      [pageRequest({ sort: '-title' })]: productPage([vase, mug, lamp], 60),
      [pageRequest({ sort: 'likes' })]: productPage([lamp, mug, vase], 60),
      [pageRequest({ sort: 'id' })]: productPage([mug, lamp, vase], 60),
    });
    const { user, router } = renderList('/admin/products?page=2');
    await screen.findByRole('table');
    // Newest first by default.
    expect(header('ID')).toHaveAttribute('aria-sort', 'descending');
    expect(header('Title')).not.toHaveAttribute('aria-sort');
    expect(header('Likes')).not.toHaveAttribute('aria-sort');
    // Sorting links start again from page 1.
    expect(within(header('Title')).getByRole('link', { name: 'Title' })).toHaveAttribute('href', '/admin/products?sort=title');

    await user.click(within(header('Title')).getByRole('link', { name: 'Title' }));
    expect(at(router)).toBe('/admin/products?sort=title');
    await waitFor(() => expect(titles()).toEqual(['Lamp', 'Mug', 'Vase']));
    expect(calls.at(-1)?.url).toBe('/api/products?sort=title&page=1&per_page=25');
    expect(header('Title')).toHaveAttribute('aria-sort', 'ascending');
    expect(header('ID')).not.toHaveAttribute('aria-sort');

    await user.click(within(header('Title')).getByRole('link', { name: 'Title' }));
    expect(at(router)).toBe('/admin/products?sort=-title');
    await waitFor(() => expect(titles()).toEqual(['Vase', 'Mug', 'Lamp']));
    expect(header('Title')).toHaveAttribute('aria-sort', 'descending');

    await user.click(within(header('Likes')).getByRole('link', { name: 'Likes' }));
    expect(at(router)).toBe('/admin/products?sort=likes');
    await waitFor(() => expect(header('Likes')).toHaveAttribute('aria-sort', 'ascending'));
    expect(header('Title')).not.toHaveAttribute('aria-sort');

    await user.click(within(header('ID')).getByRole('link', { name: 'ID' }));
    expect(at(router)).toBe('/admin/products?sort=id');
    await waitFor(() => expect(header('ID')).toHaveAttribute('aria-sort', 'ascending'));
    // Back to the default (newest first) leaves sort out of the URL.
    expect(within(header('ID')).getByRole('link', { name: 'ID' })).toHaveAttribute('href', '/admin/products');
  });

  it('says no product matches a search, with a link to clear it', async () => {
    mockFetch({ [pageRequest({ q: 'zzz', sort: 'title' })]: productPage([]) });
    renderList('/admin/products?q=zzz&sort=title');
    expect(await screen.findByRole('heading', { name: 'No products match “zzz”' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Clear the search' })).toHaveAttribute('href', '/admin/products?sort=title');
    expect(screen.getByText('0 products')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'No products yet' })).not.toBeInTheDocument();
  });

  it('shows "No products yet" with a link to add one', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([]) });
    renderList();
    expect(await screen.findByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Add your first product' })).toHaveAttribute('href', '/admin/products/create');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('offers the last page for a page past the end', async () => {
    mockFetch({
      [pageRequest({ q: 'mug', page: 7 })]: productPage([], 120),
      [pageRequest({ q: 'mug', page: 5 })]: productPage([mug], 120),
    });
    const { user, router } = renderList('/admin/products?q=mug&page=7');
    expect(await screen.findByRole('heading', { name: 'There is no page 7' })).toBeInTheDocument();
    expect(screen.getByText('The last page is page 5: products may have been deleted meanwhile.')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Pages' })).not.toBeInTheDocument();
    const link = screen.getByRole('link', { name: 'Go to the last page' });
    expect(link).toHaveAttribute('href', '/admin/products?q=mug&page=5');
    await user.click(link);
    expect(at(router)).toBe('/admin/products?q=mug&page=5');
    expect(await screen.findByRole('rowheader', { name: /^Mug/ })).toBeInTheDocument();
  });

  it('shows an error with Retry, which asks for the same page again', async () => {
    const request = pageRequest({ sort: 'title', page: 2 });
    const { calls } = mockFetch({ [request]: [server500, productPage([mug], 30)] });
    const { user } = renderList('/admin/products?sort=title&page=2');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the catalogue.');
    expect(alert).toHaveTextContent('Something went wrong on the server. Please try again.');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('table')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(calls.map((c) => c.url)).toEqual([request.slice(4), request.slice(4)]);
  });

  it('hides the rows of the previous page when the next one fails', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([mug], 30), [pageRequest({ page: 2 })]: nginx503 });
    const { user } = renderList();
    await screen.findByRole('table');
    await user.click(within(pages()).getByRole('link', { name: 'Page 2' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The service is temporarily unavailable');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('refuses a page without its total', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: { json: [mug] } });
    renderList();
    expect(await screen.findByRole('alert')).toHaveTextContent('The server sent an unexpected answer.');
  });

  it('Refresh asks for the current page again', async () => {
    const { calls } = mockFetch({ [FIRST_PRODUCT_PAGE]: [productPage([mug]), productPage([lamp, mug])] });
    const { user } = renderList();
    await screen.findByRole('table');
    await user.click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(titles()).toEqual(['Lamp', 'Mug']));
    expect(calls).toHaveLength(2);
  });

  it('shows the flash message it was sent with, and forgets it in history keeping the URL', async () => {
    mockFetch({ [pageRequest({ page: 2 })]: productPage([mug], 30) });
    const { router } = renderList('/admin/products?page=2', { flash: { kind: 'success', text: 'Added “Mug”.' } });
    expect(await screen.findByText('Added “Mug”.')).toBeInTheDocument();
    await waitFor(() => expect(router.state.location.state).toBeNull());
    expect(at(router)).toBe('/admin/products?page=2');
  });

  it('deletes a product after confirming in a dialog that names it, then asks for the current page again', async () => {
    const request = pageRequest({ page: 2 });
    const { calls } = mockFetch({
      [request]: [productPage([mug, lamp], 27), productPage([lamp, vase], 26)],
      'DELETE /api/products/1': { status: 204 },
    });
    const { user } = renderList('/admin/products?page=2');
    await screen.findByRole('table');
    const deleteButton = within(row('Mug')).getByRole('button', { name: 'Delete Mug' });
    await user.click(deleteButton);

    const dialog = screen.getByRole('dialog', { name: 'Delete product?' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveTextContent('Delete “Mug”?');
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();

    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.queryByRole('rowheader', { name: /^Mug/ })).not.toBeInTheDocument();
    expect(screen.getByText('Deleted “Mug”.')).toBeInTheDocument();
    // The page again: the next product moved up into it.
    await waitFor(() => expect(titles()).toEqual(['Lamp', 'Vase']));
    expect(screen.getByText('26 products')).toBeInTheDocument();
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([request, 'DELETE /api/products/1', request]);
  });

  it('does nothing when the dialog is cancelled (button or Escape), and returns focus', async () => {
    const { calls } = mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([mug]) });
    const { user } = renderList();
    await screen.findByRole('table');
    const deleteButton = screen.getByRole('button', { name: 'Delete Mug' });

    await user.click(deleteButton);
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(deleteButton).toHaveFocus();

    await user.click(deleteButton);
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    expect(screen.getByRole('rowheader', { name: /^Mug/ })).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'DELETE')).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('keeps the dialog open with an error when the delete fails', async () => {
    mockFetch({ [FIRST_PRODUCT_PAGE]: productPage([mug]), 'DELETE /api/products/1': nginx503 });
    const { user } = renderList();
    await user.click(await screen.findByRole('button', { name: 'Delete Mug' }));
    const dialog = screen.getByRole('dialog');
    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('“Mug” was not deleted. The service is temporarily unavailable');
    expect(screen.getByRole('rowheader', { name: /^Mug/ })).toBeInTheDocument();
  });

  it('removes the row when the product had already been deleted (404)', async () => {
    mockFetch({
      [FIRST_PRODUCT_PAGE]: [productPage([mug]), productPage([])],
      'DELETE /api/products/1': { status: 404, json: { error: 'Product not found' } },
    });
    const { user } = renderList();
    await user.click(await screen.findByRole('button', { name: 'Delete Mug' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('“Mug” had already been deleted.')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'No products yet' })).toBeInTheDocument();
  });

  it('sends the admin to sign in when the session has ended, deleting nothing', async () => {
    mockFetch({
      [pageRequest({ q: 'mug' })]: productPage([mug]),
      'DELETE /api/products/1': { status: 401, json: { error: 'Sign in required' } },
    });
    const { user, router } = renderList('/admin/products?q=mug');
    await user.click(await screen.findByRole('button', { name: 'Delete Mug' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?next=%2Fadmin%2Fproducts%3Fq%3Dmug');
    expect(router.state.location.state).toEqual({ loginReason: 'session-ended' });
    // The dialog went with the page, and its scroll lock too.
    expect(await screen.findByText('Stub page')).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(document.body).not.toHaveClass('modal-open-lock');
  });
});
