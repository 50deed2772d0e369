import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { StrictMode } from 'react';
import { createMemoryRouter, RouterProvider } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource, FakeIntersectionObserver, installFakeEventSource, installFakeIntersectionObserver } from '@/testing/fake-browser';
import { fakeShopApi, makeProducts } from '@/testing/fake-shop-api';
import { MAX_PAGES } from '../product-window';
import { GalleryPage } from './GalleryPage';

// The gallery against an in-memory main-svc with many products (src/testing/fake-shop-api).

const COLOURS = ['Red', 'Blue', 'Green'];
/** "Red Mug 1", "Blue Mug 2", "Green Mug 3", "Red Mug 4", … */
const titled = (id: number) => `${COLOURS[id % 3 === 0 ? 2 : (id % 3) - 1]} Mug ${id}`;

function renderGallery(path = '/', { strict = false, before = [] as string[] } = {}) {
  const router = createMemoryRouter(
    [
      { path: '/', element: <GalleryPage /> },
      { path: '*', element: <p>Elsewhere</p> },
    ],
    { initialEntries: [...before, path], initialIndex: before.length },
  );
  const user = userEvent.setup();
  const app = <RouterProvider router={router} />;
  const utils = render(strict ? <StrictMode>{app}</StrictMode> : app);
  return { ...utils, router, user };
}

// Queries by role are slow over hundreds of cards: these read the DOM directly.
const cards = () => [...document.querySelectorAll('article')];
const titles = () => cards().map((c) => c.querySelector('h2')?.textContent);
/** A card's title heading, once it is on screen. */
// Waits, not timings: rendering pages of cards under coverage, with the other test files'
// workers on two cores, can take seconds. The tests assert what appears, never how fast.
const WAIT_MS = 8_000;
vi.setConfig({ testTimeout: 60_000 });
const findTitle = (title: string, timeout = WAIT_MS) => screen.findByText(title, { selector: 'article h2' }, { timeout });
/** The card of a product, found by its title. */
function card(title: string): HTMLElement {
  const found = cards().find((c) => c.querySelector('h2')?.textContent === title);
  if (!found) throw new Error(`no card titled ${title}`);
  return found;
}
const queryTitle = (title: string) => screen.queryByText(title, { selector: 'article h2' });
const announcement = () => screen.getByTestId('gallery-announcement');
const moreSentinel = () => screen.getByTestId('gallery-more-sentinel');
/**
 * Tells the observers of `target()` that it came into view, once one observes it: the
 * gallery starts observing in an effect, which can run after the cards are shown (on a busy
 * machine, an intersection sent before it was lost and the next page never came).
 */
async function inView(target: () => Element): Promise<void> {
  await waitFor(() => expect(FakeIntersectionObserver.instances.some((o) => o.targets.has(target()))).toBe(true));
  FakeIntersectionObserver.intersect(target());
}
const search = (router: ReturnType<typeof renderGallery>['router']) => router.state.location.search;

beforeEach(() => {
  installFakeIntersectionObserver();
  installFakeEventSource();
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the gallery at scale', () => {
  it('shows the first 48 of 100,000 products from one small request', async () => {
    const shop = fakeShopApi({ products: makeProducts(100_000) });
    renderGallery();
    expect(await findTitle('Product 1')).toBeInTheDocument();
    expect(cards()).toHaveLength(48);
    expect(titles().at(-1)).toBe('Product 48');
    expect(shop.requests).toEqual(['/flask/api/products?limit=48']);
    expect(announcement()).toHaveTextContent('Showing 48 products');
    expect(screen.getByRole('button', { name: 'Show more products' })).toBeVisible();
    expect(screen.getByRole('list', { name: 'Products' }).children).toHaveLength(48);
    expect(screen.queryByRole('link', { name: 'Back to the first products' })).not.toBeInTheDocument();
  });

  it('loads the next page with the "Show more products" button and moves focus to its first card', async () => {
    const shop = fakeShopApi({ products: makeProducts(100) });
    const { user } = renderGallery();
    await findTitle('Product 1');
    await user.click(screen.getByRole('button', { name: 'Show more products' }));
    expect(await findTitle('Product 49')).toBeInTheDocument();
    expect(cards()).toHaveLength(96);
    expect(shop.requests.at(-1)).toBe('/flask/api/products?limit=48&after=48');
    expect(card('Product 49')).toHaveFocus();
    expect(announcement()).toHaveTextContent('Showing 96 products');

    // The last page: no button any more, and the list says it is complete.
    await user.click(screen.getByRole('button', { name: 'Show more products' }));
    expect(await findTitle('Product 100')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Show more products' })).not.toBeInTheDocument();
    expect(screen.getByText('That’s everything.')).toBeInTheDocument();
    expect(announcement()).toHaveTextContent('Showing 100 products, the end of the list');
  });

  it('loads the next page when the sentinel below the cards nears the viewport', async () => {
    const shop = fakeShopApi({ products: makeProducts(1_000) });
    renderGallery();
    await findTitle('Product 1');
    expect(FakeIntersectionObserver.instances.at(-1)?.rootMargin).toBe('800px 0px');
    await inView(moreSentinel);
    expect(await findTitle('Product 96')).toBeInTheDocument();
    // A sentinel scrolled away loads nothing; the focus stays where the shopper is.
    FakeIntersectionObserver.intersect(moreSentinel(), false);
    expect(shop.requests).toEqual(['/flask/api/products?limit=48', '/flask/api/products?limit=48&after=48']);
    expect(document.body).toHaveFocus();
  });

  it('sends one request for two quick intersections', async () => {
    const shop = fakeShopApi({ products: makeProducts(1_000) });
    renderGallery();
    await findTitle('Product 1');
    shop.hold();
    await inView(moreSentinel);
    FakeIntersectionObserver.intersect(moreSentinel());
    expect(shop.requests).toHaveLength(2);
    expect(screen.getByRole('button', { name: 'Show more products' })).toHaveAttribute('aria-disabled', 'true');
    act(() => shop.answerNow());
    expect(await findTitle('Product 96')).toBeInTheDocument();
  });

  it('keeps at most a few pages of cards mounted, however far the shopper goes', async () => {
    const shop = fakeShopApi({ products: makeProducts(100_000) });
    const { user } = renderGallery();
    await findTitle('Product 1');
    for (let page = 2; page <= 12; page += 1) {
      await inView(moreSentinel);
      await findTitle(`Product ${page * 48}`);
      expect(cards().length).toBeLessThanOrEqual(Math.min(MAX_PAGES * 48, 300));
    }
    // Pages 8 to 12 are mounted; the first seven are remembered, not rendered.
    expect(cards()).toHaveLength(MAX_PAGES * 48);
    expect(titles()[0]).toBe('Product 337');
    expect(announcement()).toHaveTextContent('Showing 576 products');

    // Back up: the page before comes back and the bottom one goes.
    await user.click(screen.getByRole('button', { name: 'Show earlier products' }));
    expect(await findTitle('Product 289')).toBeInTheDocument();
    expect(shop.requests.at(-1)).toBe('/flask/api/products?limit=48&after=288');
    expect(cards()).toHaveLength(MAX_PAGES * 48);
    expect(titles().at(-1)).toBe('Product 528');
    // The earlier sentinel does the same when scrolling up.
    await inView(() => screen.getByTestId('gallery-earlier-sentinel'));
    expect(await findTitle('Product 241')).toBeInTheDocument();
    expect(titles().at(-1)).toBe('Product 480');
    // And going down again fetches what was dropped at the bottom.
    await inView(moreSentinel);
    expect(await findTitle('Product 528')).toBeInTheDocument();
    expect(shop.requests.at(-1)).toBe('/flask/api/products?limit=48&after=480');
  });

  it('searches as the shopper types, once they pause, and replaces the URL', async () => {
    const shop = fakeShopApi({ products: makeProducts(500, titled) });
    const { user, router } = renderGallery();
    await findTitle('Red Mug 1');
    await user.type(screen.getByRole('searchbox', { name: 'Search products' }), 'blue m');
    // Nothing yet: the debounce waits for a pause.
    expect(shop.requests).toEqual(['/flask/api/products?limit=48']);
    await waitFor(() => expect(queryTitle('Red Mug 1')).not.toBeInTheDocument(), { timeout: WAIT_MS });
    expect(titles()[0]).toBe('Blue Mug 2');
    expect(shop.requests).toEqual(['/flask/api/products?limit=48', '/flask/api/products?q=blue+m&limit=48']);
    expect(search(router)).toBe('?q=blue+m');
    expect(router.state.historyAction).toBe('REPLACE');
    expect(titles()).toHaveLength(48);
    expect(titles().every((t) => t?.startsWith('Blue Mug'))).toBe(true);

    // Paging keeps the search.
    await user.click(screen.getByRole('button', { name: 'Show more products' }));
    await findTitle('Blue Mug 146');
    expect(shop.requests.at(-1)).toBe('/flask/api/products?q=blue+m&limit=48&after=143');
  });

  it('searches at once on Enter', async () => {
    const shop = fakeShopApi({ products: makeProducts(50, titled) });
    renderGallery();
    await findTitle('Red Mug 1');
    const box = screen.getByRole('searchbox', { name: 'Search products' });
    await act(async () => {
      fireEvent.change(box, { target: { value: 'green' } });
      fireEvent.submit(box.closest('form')!);
    });
    // Well within the debounce's 250 ms: Enter did not wait for it.
    expect(shop.requests.at(-1)).toBe('/flask/api/products?q=green&limit=48');
    expect(await findTitle('Green Mug 3')).toBeInTheDocument();
  });

  it('ignores an older search answering after a newer one, and aborts it', async () => {
    const shop = fakeShopApi({ products: makeProducts(300, titled) });
    const { user } = renderGallery();
    await findTitle('Red Mug 1');
    shop.hold();
    const box = screen.getByRole('searchbox', { name: 'Search products' });
    await user.type(box, 'red');
    await waitFor(() => expect(shop.held.map((h) => h.url)).toEqual(['/flask/api/products?q=red&limit=48']));
    await user.clear(box);
    await user.type(box, 'green');
    await waitFor(() => expect(shop.held).toHaveLength(2));
    const [older, newer] = shop.held;
    expect(older!.signal?.aborted).toBe(true);
    expect(newer!.signal?.aborted).toBe(false);
    // The old results stay, dimmed and busy, while the search is on its way.
    expect(screen.getByRole('list', { name: 'Products' })).toHaveAttribute('aria-busy', 'true');

    act(() => newer!.release());
    expect(await findTitle('Green Mug 3')).toBeInTheDocument();
    act(() => older!.release());
    // Give the late answer every chance to land: it must not.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queryTitle('Red Mug 4')).not.toBeInTheDocument();
    expect(titles().every((t) => t?.startsWith('Green'))).toBe(true);
    expect(screen.getByRole('list', { name: 'Products' })).not.toHaveAttribute('aria-busy');
  });

  it('says no product matches, and the shopper can clear the search', async () => {
    fakeShopApi({ products: makeProducts(30, titled) });
    const { user, router } = renderGallery('/?q=teapot');
    expect(await screen.findByRole('heading', { name: 'No products match “teapot”' })).toBeInTheDocument();
    expect(announcement()).toHaveTextContent('No products match “teapot”');
    expect(screen.queryByRole('list', { name: 'Products' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Clear the search' }));
    expect(await findTitle('Red Mug 1')).toBeInTheDocument();
    expect(screen.getByRole('searchbox', { name: 'Search products' })).toHaveValue('');
    expect(search(router)).toBe('');
  });

  it('opens a shared link at its search and position, with a way back to the start', async () => {
    const shop = fakeShopApi({ products: makeProducts(1_000, titled) });
    const { user, router } = renderGallery('/?q=blue&after=120');
    expect(await findTitle('Blue Mug 122')).toBeInTheDocument();
    expect(titles()[0]).toBe('Blue Mug 122');
    expect(shop.requests).toEqual(['/flask/api/products?q=blue&limit=48&after=120']);
    expect(screen.getByRole('searchbox', { name: 'Search products' })).toHaveValue('blue');

    await user.click(screen.getByRole('link', { name: 'Back to the first products' }));
    expect(await findTitle('Blue Mug 2')).toBeInTheDocument();
    expect(search(router)).toBe('?q=blue');
    expect(shop.requests).toHaveLength(2);
    expect(card('Blue Mug 2')).toHaveFocus();
    expect(screen.queryByRole('link', { name: 'Back to the first products' })).not.toBeInTheDocument();
  });

  it('shows a position past the end as such, with the way back', async () => {
    fakeShopApi({ products: makeProducts(10) });
    renderGallery('/?after=99');
    expect(await screen.findByRole('heading', { name: 'No more products from here' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to the first products' })).toHaveAttribute('href', '/');
  });

  it('reads a broken position as the start of the list', async () => {
    const shop = fakeShopApi({ products: makeProducts(10) });
    renderGallery('/?after=abc');
    expect(await findTitle('Product 1')).toBeInTheDocument();
    expect(shop.requests).toEqual(['/flask/api/products?limit=48']);
  });

  it('comes back to the same results with the back button; typing adds no history entries', async () => {
    fakeShopApi({ products: makeProducts(300, titled) });
    const { user, router } = renderGallery('/', { before: ['/before'] });
    await findTitle('Red Mug 1');
    await user.type(screen.getByRole('searchbox', { name: 'Search products' }), 'green');
    await waitFor(() => expect(queryTitle('Red Mug 1')).not.toBeInTheDocument(), { timeout: WAIT_MS });
    expect(search(router)).toBe('?q=green');

    await act(() => router.navigate('/elsewhere'));
    expect(screen.getByText('Elsewhere')).toBeInTheDocument();
    await act(() => router.navigate(-1));
    expect(await findTitle('Green Mug 3')).toBeInTheDocument();
    expect(queryTitle('Red Mug 1')).not.toBeInTheDocument();
    expect(screen.getByRole('searchbox', { name: 'Search products' })).toHaveValue('green');

    // One step back from the search is the page before the gallery, not "gree", "gre", …
    await act(() => router.navigate(-1));
    expect(router.state.location.pathname).toBe('/before');
  });

  it('follows the URL when it changes while the gallery is shown (the box too)', async () => {
    fakeShopApi({ products: makeProducts(300, titled) });
    const { router } = renderGallery('/?q=red');
    await findTitle('Red Mug 1');
    await act(() => router.navigate('/?q=green&after=30'));
    expect(await findTitle('Green Mug 33')).toBeInTheDocument();
    expect(screen.getByRole('searchbox', { name: 'Search products' })).toHaveValue('green');
  });

  it('puts the page at the top of the screen into the URL as the shopper scrolls, without reloading', async () => {
    const shop = fakeShopApi({ products: makeProducts(1_000) });
    const { router } = renderGallery();
    await findTitle('Product 1');
    await inView(moreSentinel);
    await findTitle('Product 96');
    await inView(moreSentinel);
    await findTitle('Product 144');
    const requests = shop.requests.length;

    // Scrolled so that the second page's first row is near the top of the screen.
    const tops = new Map([
      ['0', -3000],
      ['48', 100],
      ['96', 3200],
    ]);
    vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function (this: HTMLElement) {
      const top = tops.get(this.dataset.pageStart ?? '') ?? 0;
      return DOMRect.fromRect({ x: 0, y: top, width: 100, height: 100 });
    });
    vi.stubGlobal('requestAnimationFrame', (run: FrameRequestCallback) => setTimeout(() => run(0), 0));
    act(() => {
      window.dispatchEvent(new Event('scroll'));
    });
    await waitFor(() => expect(search(router)).toBe('?after=48'));
    expect(router.state.historyAction).toBe('REPLACE');
    expect(shop.requests).toHaveLength(requests);
    expect(cards()).toHaveLength(144);

    // Back at the top.
    tops.set('0', 0);
    tops.set('48', 3000);
    act(() => {
      window.dispatchEvent(new Event('scroll'));
    });
    await waitFor(() => expect(search(router)).toBe(''));
    expect(shop.requests).toHaveLength(requests);
  });

  it('keeps the room of the dropped pages with a spacer (measured from the page starts)', async () => {
    fakeShopApi({ products: makeProducts(1_000) });
    vi.spyOn(HTMLElement.prototype, 'getBoundingClientRect').mockImplementation(function (this: HTMLElement) {
      const start = this.dataset.pageStart;
      const top = start === undefined ? 0 : (Number(start) / 48) * 5000;
      return DOMRect.fromRect({ x: 0, y: top, width: 100, height: 100 });
    });
    renderGallery();
    await findTitle('Product 1');
    for (let page = 2; page <= MAX_PAGES + 2; page += 1) {
      await inView(moreSentinel);
      await findTitle(`Product ${page * 48}`);
    }
    const spacer = screen.getByTestId('gallery-spacer');
    expect(spacer.style.height).toBe('10000px');
  });

  it('shows a failed first page as an error with Retry', async () => {
    const shop = fakeShopApi({ products: makeProducts(60) });
    shop.fail(1);
    const { user } = renderGallery();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the products.');
    expect(alert).toHaveTextContent(/temporarily unavailable/i);
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await findTitle('Product 1')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows a failed next page as an error with Retry, keeping the cards, and does not loop', async () => {
    const shop = fakeShopApi({ products: makeProducts(60) });
    const { user } = renderGallery();
    await findTitle('Product 1');
    shop.fail(1);
    await inView(moreSentinel);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load more products.');
    expect(cards()).toHaveLength(48);
    // The sentinel still in view does not retry on its own.
    FakeIntersectionObserver.intersect(moreSentinel());
    expect(shop.requests).toHaveLength(2);
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await findTitle('Product 60')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows a failed earlier page as an error with Retry', async () => {
    const shop = fakeShopApi({ products: makeProducts(1_000) });
    const { user } = renderGallery();
    await findTitle('Product 1');
    for (let page = 2; page <= MAX_PAGES + 1; page += 1) {
      await inView(moreSentinel);
      await findTitle(`Product ${page * 48}`);
    }
    shop.fail(1);
    await user.click(screen.getByRole('button', { name: 'Show earlier products' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the earlier products.');
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await findTitle('Product 1')).toBeInTheDocument();
  });

  it('loads once under StrictMode', async () => {
    const shop = fakeShopApi({ products: makeProducts(60) });
    renderGallery('/', { strict: true });
    expect(await findTitle('Product 1')).toBeInTheDocument();
    expect(cards()).toHaveLength(48);
    expect(shop.requests.at(-1)).toBe('/flask/api/products?limit=48');
  });
});

describe('live like counts in the gallery', () => {
  it('shows other shoppers’ likes on the cards on screen as they arrive', async () => {
    fakeShopApi({ products: makeProducts(100) });
    renderGallery();
    await findTitle('Product 1');
    const stream = FakeEventSource.latest();
    expect(stream.url).toBe('/flask/api/products/events');
    stream.open();
    stream.emit('likes', [
      { id: 2, likes: 40 },
      { id: 99, likes: 3 },
    ]);
    expect(within(card('Product 2')).getByText('40 likes')).toBeInTheDocument();
    expect(within(card('Product 1')).getByText('0 likes')).toBeInTheDocument();
  });

  it('refetches what is shown on resync', async () => {
    const shop = fakeShopApi({ products: makeProducts(100) });
    renderGallery();
    await findTitle('Product 1');
    await inView(moreSentinel);
    await findTitle('Product 96');
    shop.setLikes(1, 7);
    shop.setLikes(90, 2);
    shop.remove(5);
    FakeEventSource.latest().emit('resync', {});
    expect(await within(card('Product 1')).findByText('7 likes')).toBeInTheDocument();
    expect(within(card('Product 90')).getByText('2 likes')).toBeInTheDocument();
    expect(screen.queryByRole('article', { name: 'Product 5' })).not.toBeInTheDocument();
    expect(shop.requests.at(-1)).toBe('/flask/api/products?limit=96');
  });

  it('counts the shopper’s own like once, even when the stream brought it first', async () => {
    const shop = fakeShopApi({ products: makeProducts(10) });
    const { user } = renderGallery();
    await findTitle('Product 1');
    let answer: (response: Response) => void = () => undefined;
    shop.spy.mockImplementationOnce(() => new Promise<Response>((resolve) => (answer = resolve)));
    await user.click(screen.getByRole('button', { name: 'Like Product 1' }));
    const liked = card('Product 1');
    // The stream's count (which includes this like) arrives before the POST's answer.
    FakeEventSource.latest().emit('likes', [{ id: 1, likes: 1 }]);
    act(() => answer(Response.json({ message: 'success' })));
    expect(await within(liked).findByRole('button', { name: 'Like Product 1', pressed: true })).toBeInTheDocument();
    expect(within(liked).getByText('1 like')).toBeInTheDocument();

    // Without a stream update in between, the like shows at once.
    await user.click(screen.getByRole('button', { name: 'Like Product 2' }));
    expect(await within(card('Product 2')).findByText('1 like')).toBeInTheDocument();
  });

  it('closes the stream when the gallery unmounts', async () => {
    fakeShopApi({ products: makeProducts(10) });
    const { unmount } = renderGallery();
    await findTitle('Product 1');
    const stream = FakeEventSource.latest();
    expect(stream.closed).toBe(false);
    unmount();
    expect(stream.closed).toBe(true);
  });
});
