// The catalogue at a real size, in a real browser against the real stack: the gallery and
// the admin table with E2E_PRODUCTS (10,000) products seeded by scripts/e2e-browser.sh
// (titles "Colour Material Kind id", scripts/seed-catalogue.sh). Search, pages, sort, shared
// links, the back button, and a like from another browser arriving live. Times are logged,
// not asserted (the benchmark measures); sizes and counts are asserted.
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as support from './support';
import { api, newPage, problems, screenshot, signIn } from './support';

const PRODUCTS = Number(process.env.E2E_PRODUCTS ?? '10000');

let browser: Browser;
let shopper: BrowserContext;
const newContext = (): Promise<BrowserContext> => support.newContext(browser);

interface Product {
  id: number;
  title: string;
  likes: number;
}

/** The catalogue's total for a query, as the admin API counts it. */
async function total(query: string): Promise<number> {
  const res = await api(`/api/products?per_page=1&${query}`);
  return Number(res.headers.get('x-total-count'));
}

/** The admin table's titles, in order (each row's header holds the title, then the image URL). */
const rowTitles = (page: Page): Promise<string[]> =>
  page.getByRole('rowheader').evaluateAll((cells) => cells.map((c) => c.firstElementChild?.textContent ?? ''));

const cards = (page: Page) => page.getByRole('list', { name: 'Products' }).getByRole('article');
const searchBox = (page: Page) => page.getByRole('searchbox', { name: 'Search products' });

/** The bytes of product data (`/flask/api/products…` answers) a page has loaded so far. */
function productBytes(page: Page): () => number {
  let bytes = 0;
  page.on('response', (response: Response) => {
    if (new URL(response.url()).pathname === '/flask/api/products') {
      void response.body().then(
        (body) => (bytes += body.length),
        () => undefined,
      );
    }
  });
  return () => bytes;
}

beforeAll(async () => {
  browser = await support.launch();
  shopper = await newContext();
});

afterAll(async () => {
  await browser?.close();
});

describe.sequential(`the catalogue with ${PRODUCTS.toLocaleString('en')} products`, () => {
  it('is that big', async () => {
    expect(await total('')).toBeGreaterThanOrEqual(PRODUCTS);
  });

  it('the gallery shows its first page at once and downloads one page of products', async () => {
    const page = await newPage(shopper);
    const bytes = productBytes(page);
    const start = Date.now();
    await page.goto('/');
    await cards(page).first().waitFor();
    console.log(`gallery: first card visible ${Date.now() - start} ms after navigation`);
    await page.waitForLoadState('networkidle');
    expect(await cards(page).count()).toBe(48);
    // A page of 48 products, nowhere near the whole catalogue (800 kB at 10,000).
    expect(bytes()).toBeGreaterThan(0);
    expect(bytes()).toBeLessThanOrEqual(100 * 1024);
    await screenshot(page, 'scale-gallery');
    await page.close();
  });

  it('more products arrive from the keyboard and by scrolling, and the page stays bounded', async () => {
    const page = await newPage(shopper);
    await page.goto('/');
    await cards(page).first().waitFor();
    const more = page.getByRole('button', { name: 'Show more products' });
    await more.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => cards(page).count()).toBe(96);
    await expect.poll(() => page.getByTestId('gallery-announcement').textContent()).toContain('Showing');
    // Scrolling on: pages arrive, old ones leave; the DOM never holds the whole catalogue.
    let most = 0;
    for (let i = 0; i < 12; i++) {
      await page.mouse.wheel(0, 6000);
      await page.waitForTimeout(150);
      most = Math.max(most, await cards(page).count());
    }
    const ids = await cards(page).evaluateAll((articles) =>
      articles.map((a) => Number(a.closest('[data-product-id]')?.getAttribute('data-product-id'))),
    );
    expect(Math.max(...ids)).toBeGreaterThan(300);
    expect(most).toBeLessThanOrEqual(240);
    // Where the shopper is, is in the URL.
    await expect.poll(() => new URL(page.url()).searchParams.get('after')).not.toBeNull();
    await page.close();
  });

  it('typing searches, a shared link and the back button return to the results', async () => {
    const expected = await total('q=blue+linen+la');
    expect(expected).toBeGreaterThan(0);
    const page = await newPage(shopper);
    await page.goto('/');
    await cards(page).first().waitFor();
    const start = Date.now();
    await searchBox(page).pressSequentially('blue linen la', { delay: 40 });
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('blue linen la');
    await expect
      .poll(async () => (await cards(page).allTextContents()).every((t) => /blue linen la/i.test(t)))
      .toBe(true);
    console.log(`gallery: results ${Date.now() - start} ms after the first key`);
    const titles = await cards(page).getByRole('heading').allTextContents();
    expect(titles.length).toBe(Math.min(expected, 48));
    await screenshot(page, 'scale-gallery-search');

    // A shared link opens the same results in another browser.
    const link = page.url();
    const other = await newContext();
    const shared = await newPage(other);
    await shared.goto(link);
    await cards(shared).first().waitFor();
    expect(await cards(shared).getByRole('heading').allTextContents()).toEqual(titles);
    expect(await searchBox(shared).inputValue()).toBe('blue linen la');
    await other.close();

    // Nothing matches: said so; back returns to the results.
    await searchBox(page).fill('zzqx nothing');
    await page.getByRole('heading', { name: 'No products match “zzqx nothing”' }).waitFor();
    await page.goto('/');
    await cards(page).first().waitFor();
    await page.goBack();
    await expect.poll(() => searchBox(page).inputValue()).toBe('zzqx nothing');
    await page.close();
  });

  it('a like in another browser reaches the card on screen without a reload', async () => {
    const [target] = (await (await api('/flask/api/products?q=red+oak&limit=1')).json()) as Product[];
    expect(target).toBeDefined();
    const watching = await newPage(shopper);
    await watching.goto(`/?q=${encodeURIComponent(target!.title)}`);
    const card = watching.getByRole('article', { name: target!.title, exact: true });
    const count = (likes: number) => card.getByText(likes === 1 ? '1 like' : `${likes} likes`, { exact: true });
    await count(target!.likes).waitFor();
    // Another shopper, in a browser of their own, likes it.
    const other = await newContext();
    const liker = await newPage(other);
    await liker.goto(`/?q=${encodeURIComponent(target!.title)}`);
    const start = Date.now();
    await liker.getByRole('button', { name: `Like ${target!.title}` }).click();
    await count(target!.likes + 1).waitFor({ timeout: 5_000 });
    console.log(`live likes: the other shopper's like shown ${Date.now() - start} ms after the click`);
    await other.close();
    await watching.close();
  });

  it('the admin table pages, sorts and searches on the server, all in the URL', async () => {
    const admin = await newContext();
    const page = await newPage(admin);
    await page.goto('/login?next=%2Fadmin%2Fproducts');
    await signIn(page);
    const start = Date.now();
    await page.getByRole('rowheader').first().waitFor();
    console.log(`admin table: first row ${Date.now() - start} ms after signing in`);
    const all = await total('');
    await page.getByText(`${all.toLocaleString('en')} products`).waitFor();
    expect(await page.getByRole('rowheader').count()).toBe(25);

    // Sort by title: ascending, said in aria-sort, in the URL; the first title is the smallest.
    await page.getByRole('columnheader', { name: 'Title' }).getByRole('link').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('sort')).toBe('title');
    const header = page.getByRole('columnheader', { name: 'Title' });
    await expect.poll(() => header.getAttribute('aria-sort')).toBe('ascending');
    const [first] = (await (await api('/api/products?sort=title&per_page=1')).json()) as Product[];
    await expect.poll(async () => (await rowTitles(page))[0]).toBe(first!.title);

    // 50 a page, then page 3 through the page links.
    await page.getByRole('combobox', { name: 'Per page' }).selectOption('50');
    await expect.poll(() => page.getByRole('rowheader').count()).toBe(50);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Page 3' }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get('page')).toBe('3');
    const page3 = (await (await api('/api/products?sort=title&per_page=50&page=3')).json()) as Product[];
    await expect.poll(() => rowTitles(page)).toEqual(page3.map((p) => p.title));
    await screenshot(page, 'scale-admin-sorted');

    // A search finds one product among thousands.
    const [one] = (await (await api('/api/products?q=green+silk&per_page=1')).json()) as Product[];
    await page.getByRole('searchbox', { name: 'Search products' }).fill(`${one!.title.split(' ').pop()} green`);
    await page.keyboard.press('Enter');
    await expect.poll(() => rowTitles(page)).toEqual([one!.title]);
    await page.getByText('1 product', { exact: false }).first().waitFor();

    // The link to these results, opened afresh, shows them.
    const link = page.url();
    const again = await newPage(admin);
    await again.goto(link);
    await expect.poll(() => rowTitles(again)).toEqual([one!.title]);
    await admin.close();
  });

  it('no page logged an error', () => {
    expect(problems.join('\n')).toBe('');
  });
});
