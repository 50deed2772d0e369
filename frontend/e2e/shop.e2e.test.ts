// End-to-end story in a real browser against the real stack (nginx + both APIs + broker):
// no mocks. See frontend/README.md ("End-to-end tests") for what it expects.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as support from './support';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  BASE_URL,
  SESSION_COOKIE,
  api,
  apiSignIn,
  expectFailedLoads,
  newPage,
  problems,
  screenshot,
  signIn,
  sleep,
} from './support';

/** How long to wait for an event to travel through RabbitMQ to the other service. */
const PROPAGATION_MS = 10_000;
const IMAGE_RULE = 'Enter a valid URL (http:// or https://) or a path starting with /.';
const ALREADY_LIKED = 'You already liked this product.';

// Unique per run, so runs (and parallel runs on one stack) do not collide.
const RUN = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const TITLE = `E2E mug ${RUN}`;
const NEW_TITLE = `E2E big mug ${RUN}`;
// An http:// URL with a host that this very server serves, so the image really loads.
const GOOD_IMAGE = `${BASE_URL}/images/demo-mug.svg`;

let browser: Browser;
let admin: BrowserContext;
let adminPage: Page;
let productId: number | undefined;
const newContext = (viewport?: { width: number; height: number }): Promise<BrowserContext> =>
  support.newContext(browser, viewport);

// The failed loads this story provokes on purpose.
expectFailedLoads([
  [401, /^\/api\/auth\/me$/], // an admin page asks who is signed in: nobody, or the session ended
  [401, /^\/api\/auth\/login$/], // the wrong password
  [401, /^\/api\/products$/], // a save after the session ended
  [400, /^\/flask\/api\/products\/\d+\/like$/], // already liked
  [404, /^\/api\/products\/\d+$/], // the deleted product's edit page
]);

/** Reloads `path` until `check` passes or `timeoutMs` runs out (for asynchronous updates). */
async function pollWithReload(page: Page, path: string, check: () => Promise<void>, timeoutMs = PROPAGATION_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(path, { waitUntil: 'domcontentloaded' });
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

/** The gallery card of a product, found by its title (cards are labelled by their heading). */
const card = (page: Page, title: string): Locator => page.getByRole('article', { name: title, exact: true });
/** The admin table row of a product. */
const row = (page: Page, title: string): Locator =>
  page.getByRole('row').filter({ has: page.getByRole('rowheader').filter({ hasText: title }) });

/**
 * Where keyboard focus is: `dialog: <name>` inside an open dialog, `page: <name>` anywhere
 * else in the page, `browser` when the page has none (the browser's own UI has it).
 */
async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'browser';
    const name = el.getAttribute('aria-label') ?? (el.id || el.textContent?.trim() || el.tagName);
    return `${el.closest('dialog[open]') ? 'dialog' : 'page'}: ${name}`;
  });
}

/** The `Cookie` header of a context's admin session (its value, as a script would replay it). */
async function sessionCookie(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies(BASE_URL)).find((c) => c.name === SESSION_COOKIE);
  if (!cookie) throw new Error('no admin session cookie in this browser context');
  return `${cookie.name}=${cookie.value}`;
}

/** The sign-in page, reached from `next` (path, or null for none). */
async function expectLoginPage(page: Page, next: string | null): Promise<void> {
  await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === next);
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await expect.poll(() => page.title()).toBe('Sign in · Little Shop');
}

/** The admin pages' account bar, once signed in. */
const accountBar = (page: Page): Locator => page.getByRole('region', { name: 'Your account' });

beforeAll(async () => {
  browser = await support.launch();
  admin = await newContext();
  adminPage = await newPage(admin);
});

afterAll(async () => {
  // If a step failed before the delete, do not leave the product behind.
  if (productId !== undefined) {
    const id = productId;
    await apiSignIn()
      .then((cookie) => api(`/api/products/${id}`, { method: 'DELETE', headers: { Cookie: cookie } }))
      .catch(() => undefined);
  }
  await browser?.close();
});

describe.sequential('the shop, end to end', () => {
  it('the gallery needs no sign-in and asks nobody to sign in', async () => {
    const context = await newContext();
    try {
      const page = await newPage(context);
      const requests: string[] = [];
      page.on('request', (request) => requests.push(new URL(request.url()).pathname));
      await page.goto('/');
      await page.getByRole('heading', { level: 1, name: 'Our products' }).waitFor();
      await page
        .getByRole('list', { name: 'Products' })
        .or(page.getByRole('heading', { name: 'Nothing in the shop yet' }))
        .waitFor();
      expect(new URL(page.url()).pathname).toBe('/');
      expect(requests.filter((path) => path.startsWith('/api/'))).toEqual([]);
      expect(await page.getByText(/sign in/i).count()).toBe(0);
      expect(await accountBar(page).count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('an admin page without a session goes to the sign-in page', async () => {
    const page = adminPage;
    await page.goto('/admin/products/create');
    await expectLoginPage(page, '/admin/products/create');
    expect(await page.getByLabel('Title').count()).toBe(0);
    await screenshot(page, 'login');
  });

  it('a wrong password shows the error and signs nobody in', async () => {
    const page = adminPage;
    await signIn(page, `${ADMIN_PASSWORD}-wrong`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('Invalid email or password');
    // Still here, the password cleared and focused for another try.
    await expectLoginPage(page, '/admin/products/create');
    expect(await page.getByLabel('Password').inputValue()).toBe('');
    expect(await page.getByLabel('Password').evaluate((el) => document.activeElement === el)).toBe(true);
    expect(await page.getByLabel('Email').inputValue()).toBe(ADMIN_EMAIL);
    expect((await admin.cookies(BASE_URL)).some((c) => c.name === SESSION_COOKIE)).toBe(false);
    await screenshot(page, 'login-wrong-password');
  });

  it('signing in goes back to the page that was asked for', async () => {
    const page = adminPage;
    await signIn(page);
    await page.waitForURL('**/admin/products/create');
    await page.getByLabel('Title').waitFor();
    await accountBar(page).getByRole('button', { name: 'Sign out' }).waitFor();
    expect(await accountBar(page).textContent()).toMatch(/Signed in as \S/);
    const cookie = (await admin.cookies(BASE_URL)).find((c) => c.name === SESSION_COOKIE);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
  });

  it('an admin creates a product, fixing a bad image URL first', async () => {
    const page = adminPage;
    await page.goto('/admin/products/create');
    // Shown once the admin area knows who is signed in.
    await expect.poll(() => page.title()).toBe('Add product · Little Shop');
    await page.getByLabel('Title').fill(TITLE);
    await page.getByLabel('Image URL').fill('javascript:alert(1)');
    await page.getByRole('button', { name: 'Create product' }).click();

    const image = page.getByLabel('Image URL');
    await image.and(page.locator('[aria-invalid="true"]')).waitFor();
    await page.getByText(IMAGE_RULE).waitFor();
    expect(await page.getByText(IMAGE_RULE).isVisible()).toBe(true);
    expect(await image.evaluate((el) => document.activeElement === el)).toBe(true);
    await screenshot(page, 'create-form-errors');

    await image.fill(GOOD_IMAGE);
    await page.getByText(IMAGE_RULE).waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Create product' }).click();

    await page.waitForURL('**/admin/products');
    await page.getByText(`Added “${TITLE}”.`).waitFor();
    await row(page, TITLE).waitFor();
    const editHref = await row(page, TITLE).getByRole('link', { name: `Edit ${TITLE}` }).getAttribute('href');
    productId = Number(/\/admin\/products\/(\d+)\/edit/.exec(editHref ?? '')?.[1]);
    expect(productId).toBeGreaterThan(0);
    expect(await row(page, TITLE).getByRole('img', { name: TITLE }).getAttribute('src')).toBe(GOOD_IMAGE);
    await screenshot(page, 'admin-list');
  });

  it('the admin edits the title (and the edit page survives a full reload)', async () => {
    const page = adminPage;
    await row(page, TITLE).getByRole('link', { name: `Edit ${TITLE}` }).click();
    await page.waitForURL(`**/admin/products/${productId}/edit`);
    // A full-page load of a deep link: nginx must answer it with the app.
    await page.reload();
    const title = page.getByLabel('Title');
    await expect.poll(() => title.inputValue(), { timeout: 10_000 }).toBe(TITLE);
    expect(await page.getByLabel('Image URL').inputValue()).toBe(GOOD_IMAGE);
    await expect.poll(() => page.title(), { timeout: 5_000 }).toBe(`Edit “${TITLE}” · Little Shop`);
    await screenshot(page, 'edit-form');

    await title.fill(NEW_TITLE);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL('**/admin/products');
    await page.getByText(`Saved “${NEW_TITLE}”.`).waitFor();
    await row(page, NEW_TITLE).waitFor();
    expect(await page.getByRole('rowheader').filter({ hasText: TITLE }).count()).toBe(0);
  });

  let shopper: BrowserContext;
  let shop: Page;

  it('a shopper sees it in the gallery once it has arrived', async () => {
    shopper = await newContext();
    shop = await newPage(shopper);
    await pollWithReload(shop, '/', async () => {
      await card(shop, NEW_TITLE).waitFor({ timeout: 2_000 });
    });
    const c = card(shop, NEW_TITLE);
    await c.getByText('0 likes').waitFor();
    // The image really loads (same-site http URL, allowed by the CSP).
    const img = c.getByRole('img', { name: NEW_TITLE });
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth), { timeout: 5_000 }).toBeGreaterThan(0);
    await expect.poll(() => shop.title()).toBe('Shop · Little Shop');
    await screenshot(shop, 'gallery');
  });

  it('the shopper likes it and sees the count go to 1', async () => {
    const c = card(shop, NEW_TITLE);
    await c.getByRole('button', { name: `Like ${NEW_TITLE}` }).click();
    await c.getByText('1 like', { exact: true }).waitFor();
    await c.getByText('Thanks! Your like was counted.').waitFor();
    const cookies = await shopper.cookies(BASE_URL);
    expect(cookies.find((cookie) => cookie.name === 'shopper_id')?.httpOnly).toBe(true);
  });

  it('the admin table shows 1 like', async () => {
    await pollWithReload(adminPage, '/admin/products', async () => {
      // Cells (the title is a row header): an admin's selection checkbox, #, image, likes, actions.
      const likes = row(adminPage, NEW_TITLE).getByRole('cell').nth(3);
      await expect.poll(() => likes.textContent(), { timeout: 1_500 }).toBe('1');
    });
  });

  it('a second like says "You already liked this product." (also after a reload)', async () => {
    const c = card(shop, NEW_TITLE);
    await c.getByRole('button', { name: `Like ${NEW_TITLE}` }).click();
    await c.getByText(ALREADY_LIKED).waitFor();
    expect(await c.getByText(ALREADY_LIKED).isVisible()).toBe(true);
    await c.getByText('1 like', { exact: true }).waitFor();
    await screenshot(shop, 'gallery-already-liked');

    await shop.reload();
    const again = card(shop, NEW_TITLE);
    await again.getByText('1 like', { exact: true }).waitFor();
    // Liked from the first paint (GET /flask/api/likes), before any click.
    await again.getByRole('button', { name: `Like ${NEW_TITLE}`, pressed: true }).waitFor();
    await again.getByRole('button', { name: `Like ${NEW_TITLE}` }).click();
    await again.getByText(ALREADY_LIKED).waitFor();
  });

  it('another shopper (fresh browser context) can like it too', async () => {
    const other = await newContext();
    try {
      const page = await newPage(other);
      await page.goto('/');
      const c = card(page, NEW_TITLE);
      await c.getByRole('button', { name: `Like ${NEW_TITLE}` }).click();
      await c.getByText('2 likes', { exact: true }).waitFor();
    } finally {
      await other.close();
    }
  });

  it('a foreign site cannot add likes: its forms and no-cors fetches are refused', async () => {
    // A page of another site, served from this machine by the test (localhost and 127.0.0.1
    // are different sites; a loopback server, so that Chrome's Private Network Access lets it
    // reach the shop), submitting the classic cross-site request forgeries at the like
    // endpoint: auto-submitted text/plain forms and no-cors fetches.
    const evilServer = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Evil</title><body></body>');
    });
    await new Promise<void>((resolve) => evilServer.listen(0, '127.0.0.1', resolve));
    const { port } = evilServer.address() as AddressInfo;
    const shopHost = new URL(BASE_URL).hostname;
    const foreignPage = `http://${shopHost === 'localhost' ? '127.0.0.1' : 'localhost'}:${port}/`;
    const target = `${BASE_URL}/flask/api/products/${productId}/like`;
    const evil = await newContext();
    try {
      const page = await evil.newPage();
      const statuses: number[] = [];
      page.on('response', (response) => {
        if (response.url() === target) statuses.push(response.status());
      });
      await page.goto(foreignPage);
      await page.evaluate(async (url) => {
        for (let i = 0; i < 5; i++) {
          const frame = document.createElement('iframe');
          frame.name = `sink${i}`;
          document.body.append(frame);
          const form = document.createElement('form');
          form.method = 'POST';
          form.action = url;
          form.enctype = 'text/plain';
          form.target = frame.name;
          const input = document.createElement('input');
          input.name = 'x';
          input.value = String(i);
          form.append(input);
          document.body.append(form);
          form.submit();
        }
        for (let i = 0; i < 5; i++) {
          await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', body: 'x' });
        }
      }, target);
      // Every forgery reached the shop and was refused there (not only by the browser).
      await expect.poll(() => statuses.length, { timeout: 5_000 }).toBe(10);
      expect(statuses).toEqual(Array(10).fill(403));
      const res = await fetch(`${BASE_URL}/flask/api/products`);
      const products = (await res.json()) as { id: number; likes: number }[];
      expect(products.find((p) => p.id === productId)?.likes).toBe(2);
    } finally {
      await evil.close();
      evilServer.close();
    }
  });

  it('stored script in titles is shown as text and never runs (gallery and admin table)', async () => {
    const payloads = [
      `<img src=x onerror="window.__xss='img'"> ${RUN}`,
      `<script>window.__xss='script'</script> ${RUN}`,
      `"><svg onload="window.__xss='svg'"> ${RUN}`,
      `{{constructor.constructor('window.__xss=1')()}} ${RUN}`,
    ];
    const cookie = await apiSignIn();
    const ids: number[] = [];
    try {
      for (const title of payloads) {
        const res = await api('/api/products', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Cookie: cookie },
          body: JSON.stringify({ title, image: GOOD_IMAGE }),
        });
        expect(res.status).toBe(201);
        ids.push(((await res.json()) as { id: number }).id);
      }
      const context = await newContext();
      try {
        const page = await newPage(context);
        let dialogs = 0;
        page.on('dialog', (d) => {
          dialogs += 1;
          void d.dismiss();
        });
        await pollWithReload(page, '/', async () => {
          for (const title of payloads) await page.getByRole('heading', { name: title }).waitFor({ timeout: 1_500 });
        });
        expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
        await adminPage.goto('/admin/products');
        for (const title of payloads) await adminPage.getByText(title, { exact: true }).first().waitFor();
        expect(await adminPage.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
        expect(dialogs).toBe(0);
      } finally {
        await context.close();
      }
    } finally {
      for (const id of ids) await api(`/api/products/${id}`, { method: 'DELETE', headers: { Cookie: cookie } });
    }
  });

  it('looks right on a 375×812 phone', async () => {
    const phone = await newContext({ width: 375, height: 812 });
    try {
      const page = await newPage(phone);
      await page.goto('/');
      await card(page, NEW_TITLE).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, 'gallery-phone');
      await page.goto('/admin/products');
      await expectLoginPage(page, '/admin/products');
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
      await screenshot(page, 'login-phone');
      await signIn(page);
      await row(page, NEW_TITLE).waitFor();
      await screenshot(page, 'admin-list-phone');
      expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    } finally {
      await phone.close();
    }
  });

  it('the admin deletes it through the confirmation dialog, and it leaves the gallery', async () => {
    const page = adminPage;
    await page.goto('/admin/products');
    const deleteButton = row(page, NEW_TITLE).getByRole('button', { name: `Delete ${NEW_TITLE}` });

    // Cancelling (Escape) changes nothing, and focus goes back to the row's Delete button.
    await deleteButton.click();
    const dialog = page.getByRole('dialog', { name: 'Delete product?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await row(page, NEW_TITLE).waitFor();
    expect(await focused(page)).toBe(`page: Delete ${NEW_TITLE}`);

    // So does a click on the backdrop.
    await deleteButton.click();
    await dialog.waitFor();
    await page.mouse.click(5, 5);
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe(`page: Delete ${NEW_TITLE}`);

    // Keyboard only: Enter opens it, modal, with focus on Cancel. Tab and Shift+Tab go
    // round its controls and never reach the page behind (past the last control the
    // browser may take focus for its own UI: none in headless, so the body).
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await dialog.evaluate((el) => el.matches(':modal'))).toBe(true);
    expect(await focused(page)).toBe('dialog: Cancel');
    const seen = new Set<string>();
    const press = async (key: string) => {
      await page.keyboard.press(key);
      seen.add(await focused(page));
    };
    for (const key of ['Tab', 'Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) await press(key);
    for (let i = 0; i < 5 && (await focused(page)) !== 'dialog: Cancel'; i++) await press('Tab');
    expect([...seen].filter((where) => !where.startsWith('dialog: ') && where !== 'browser')).toEqual([]);
    expect(seen).toContain('dialog: Close');
    expect(seen).toContain('dialog: Delete');
    expect(await focused(page)).toBe('dialog: Cancel');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused(page)).toBe(`page: Delete ${NEW_TITLE}`);

    await deleteButton.click();
    await dialog.waitFor();
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    expect(await dialog.textContent()).toContain(`Delete “${NEW_TITLE}”?`);
    await screenshot(page, 'delete-dialog');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    await row(page, NEW_TITLE).waitFor({ state: 'detached' });
    await page.getByText(`Deleted “${NEW_TITLE}”.`).waitFor();
    // Its Delete button is gone with the row: focus is on the page's main region.
    expect(await focused(page)).toBe('page: main');
    const deleted = productId;
    productId = undefined;
    expect((await api(`/api/products/${deleted}`)).status).toBe(404);

    await pollWithReload(shop, '/', async () => {
      await shop.getByRole('heading', { level: 1, name: 'Our products' }).waitFor({ timeout: 2_000 });
      // Wait for the list (or the empty shop) to load, then check the product is gone.
      await shop
        .getByRole('list', { name: 'Products' })
        .or(shop.getByRole('heading', { name: 'Nothing in the shop yet' }))
        .waitFor({ timeout: 2_000 });
      expect(await card(shop, NEW_TITLE).count()).toBe(0);
    });

    // Its edit page, loaded directly, now says it is not found.
    await page.goto(`/admin/products/${deleted}/edit`);
    await page.getByRole('heading', { name: 'Product not found' }).waitFor();
    await shopper.close();
  });

  it('an unknown path shows the 404 page with a way home', async () => {
    const page = adminPage;
    const response = await page.goto(`/no-such-page-${RUN}`);
    expect(response?.status()).toBe(200); // the SPA answers every route
    await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    await expect.poll(() => page.title()).toBe('Page not found · Little Shop');
    await screenshot(page, 'not-found');
    await page.getByRole('link', { name: 'Go to the shop' }).click();
    await page.waitForURL(`${BASE_URL}/`);
    // A missing hashed asset is a real 404, not the app.
    expect((await api(`/assets/missing-${RUN}.js`)).status).toBe(404);
  });

  it('a session that ends mid-use sends the admin to sign in, and keeps what they typed', async () => {
    const page = adminPage;
    const title = `E2E unsaved ${RUN}`;
    await page.goto('/admin/products/create');
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Image URL').fill(GOOD_IMAGE);
    // The session ends on the server (as when it expires) while the browser still has its cookie.
    expect((await api('/api/auth/logout', { method: 'POST', headers: { Cookie: await sessionCookie(admin) } })).status).toBe(204);
    await page.getByRole('button', { name: 'Create product' }).click();

    await expectLoginPage(page, '/admin/products/create');
    await page.getByRole('status').filter({ hasText: 'Your session has ended.' }).waitFor();
    await screenshot(page, 'login-session-ended');
    await signIn(page);
    await page.waitForURL('**/admin/products/create');
    await page.getByText('Your session ended before this was saved. What you typed is back').waitFor();
    expect(await page.getByLabel('Title').inputValue()).toBe(title);
    expect(await page.getByLabel('Image URL').inputValue()).toBe(GOOD_IMAGE);
    // Nothing was saved meanwhile.
    const products = (await (await api('/api/products')).json()) as { title: string }[];
    expect(products.some((p) => p.title === title)).toBe(false);
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL('**/admin/products');
  });

  it('signing out ends the session: admin pages need signing in again', async () => {
    const page = adminPage;
    await page.goto('/admin/products');
    const before = await sessionCookie(admin);
    await accountBar(page).getByRole('button', { name: 'Sign out' }).click();
    await expectLoginPage(page, null);
    await page.getByRole('status').filter({ hasText: 'You have signed out.' }).waitFor();
    await screenshot(page, 'login-signed-out');
    // The old session is gone on the server, not only from the browser.
    expect((await api('/api/auth/me', { headers: { Cookie: before } })).status).toBe(401);
    expect((await api('/api/products', { method: 'POST', headers: { Cookie: before, 'Content-Type': 'application/json' }, body: '{"title":"x","image":"/x.png"}' })).status).toBe(401);
    await page.goto('/admin/products');
    await expectLoginPage(page, '/admin/products');
    expect(await accountBar(page).count()).toBe(0);
  });

  it('saw no console errors, CSP violations or uncaught exceptions', () => {
    expect(problems.join('\n')).toBe('');
  });
});
