// The admin console's story in a real browser against the real stack (nginx, both APIs, the
// broker, MariaDB): an admin adds a viewer, who sets their password through the one-time
// link and can change nothing; the admin deletes three products at once and finds them in
// Recent actions; two browsers edit the same product and the second one is shown the
// conflict, and reapplies. No mocks.
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as support from './support';
import { api, apiSignIn, expectFailedLoads, newPage, problems, screenshot, signIn } from './support';

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const VIEWER_NAME = `Vera ${RUN}`;
const VIEWER_EMAIL = `vera-${RUN}@example.com`;
const VIEWER_PASSWORD = `viewer password ${RUN}`;

let browser: Browser;
let admin: BrowserContext;
let adminPage: Page;
let viewer: BrowserContext;
let cookie: string;
const made: number[] = [];

expectFailedLoads([
  [401, /^\/api\/auth\/me$/], // a new browser opens an admin page before signing in
  [403, /^\/api\/products$/], // the viewer's write, refused
  [412, /^\/api\/products\/\d+$/], // the second editor's save
  [410, /^\/api\/account-links\/inspect$/], // the one-time link, opened a second time
]);

async function createProduct(title: string): Promise<number> {
  const res = await api('/api/products', {
    method: 'POST',
    headers: { Cookie: cookie, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title, image: '/images/demo-mug.svg' }),
  });
  expect(res.status).toBe(201);
  const id = ((await res.json()) as { id: number }).id;
  made.push(id);
  return id;
}

const row = (page: Page, title: string): Locator =>
  page.getByRole('row').filter({ has: page.getByRole('rowheader').filter({ hasText: title }) });

async function signedIn(context: BrowserContext): Promise<Page> {
  const page = await newPage(context);
  await page.goto('/admin/products');
  await signIn(page);
  await page.waitForURL('**/admin/products');
  return page;
}

beforeAll(async () => {
  browser = await support.launch();
  cookie = await apiSignIn();
  admin = await support.newContext(browser);
  adminPage = await signedIn(admin);
  viewer = await support.newContext(browser);
});

afterAll(async () => {
  // What a failed step left behind.
  if (made.length > 0) {
    await api('/api/products/bulk-delete', {
      method: 'POST',
      headers: { Cookie: cookie, 'Content-Type': 'application/json' },
      body: JSON.stringify({ ids: made }),
    }).catch(() => undefined);
  }
  await browser?.close();
});

describe.sequential('the admin console, end to end', () => {
  it('an admin adds a viewer, who sets their own password through the one-time link', async () => {
    const page = adminPage;
    await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Accounts' }).click();
    await page.waitForURL('**/admin/accounts');
    const form = page.getByRole('form', { name: 'Add an account' });
    await form.getByLabel('Name').fill(VIEWER_NAME);
    await form.getByLabel('Email').fill(VIEWER_EMAIL);
    await form.getByLabel('Role').selectOption('viewer');
    await form.getByRole('button', { name: 'Add admin' }).click();
    const link = await page.getByRole('textbox', { name: 'Sign-in link' }).inputValue();
    expect(link).toMatch(new RegExp(`^${support.BASE_URL}/set-password#\\S+$`));
    await screenshot(page, 'console-account-added');
    await page.getByRole('table', { name: 'Accounts' }).getByText(VIEWER_EMAIL).waitFor();

    const page2 = await newPage(viewer);
    await page2.goto(link);
    await page2.getByRole('heading', { name: `Set a password for ${VIEWER_NAME} (${VIEWER_EMAIL})` }).waitFor();
    await page2.getByLabel('New password', { exact: true }).fill(VIEWER_PASSWORD);
    await page2.getByLabel('New password again').fill(VIEWER_PASSWORD);
    await page2.getByRole('button', { name: 'Set password and sign in' }).click();
    await page2.waitForURL('**/admin/products');

    // The link worked once.
    const again = await newPage(await support.newContext(browser));
    await again.goto(link);
    await again.getByRole('heading', { name: 'This link no longer works' }).waitFor();
    await screenshot(again, 'console-link-used');
  });

  it('the viewer sees no control they cannot use, and the API refuses their writes', async () => {
    const title = `Console viewer ${RUN}`;
    await createProduct(title);
    const page = await newPage(viewer);
    await page.goto(`/admin/products?q=${RUN}`);
    await row(page, title).waitFor();
    await screenshot(page, 'console-viewer-table');
    expect(await page.getByRole('link', { name: 'Add product' }).count()).toBe(0);
    expect(await page.getByRole('checkbox').count()).toBe(0);
    expect(await row(page, title).getByRole('link', { name: `Edit ${title}` }).count()).toBe(0);
    expect(await row(page, title).getByRole('button', { name: `Delete ${title}` }).count()).toBe(0);
    expect(await row(page, title).getByRole('link', { name: `History of ${title}` }).count()).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Accounts' }).count()).toBe(0);

    await page.goto('/admin/accounts');
    await page.getByRole('heading', { name: 'Only admins can manage accounts' }).waitFor();
    await page.goto('/admin/products/create');
    await page.getByRole('heading', { name: 'Only admins can add products' }).waitFor();

    // Even a hand-made request from the viewer's browser changes nothing.
    const status = await page.evaluate(async () => {
      const res = await fetch('/api/products', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: 'Not allowed', image: '/x.png' }),
      });
      return res.status;
    });
    expect(status).toBe(403);
  });

  it('the admin deletes three products at once and sees them in Recent actions', async () => {
    const titles = ['one', 'two', 'three'].map((n) => `Console bulk ${n} ${RUN}`);
    for (const title of titles) await createProduct(title);
    const page = adminPage;
    await page.goto(`/admin/products?q=bulk+${RUN}`);
    for (const title of titles) await row(page, title).waitFor();
    // One, then a range with Shift.
    await page.getByRole('checkbox', { name: `Select ${titles[0]}` }).click();
    await page.getByRole('checkbox', { name: `Select ${titles[2]}` }).click({ modifiers: ['Shift'] });
    for (const title of titles) {
      expect(await page.getByRole('checkbox', { name: `Select ${title}` }).isChecked()).toBe(true);
    }
    await page.getByRole('button', { name: /^Delete selected/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete 3 products?' });
    await dialog.waitFor();
    for (const title of titles) await dialog.getByText(title).waitFor();
    await screenshot(page, 'console-bulk-delete-dialog');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText(/Deleted 3 products/).waitFor();
    for (const title of titles) await row(page, title).waitFor({ state: 'detached' });
    made.splice(made.length - 3, 3);

    const recent = page.getByRole('complementary', { name: 'Recent actions' });
    await expect
      .poll(async () => {
        const text = (await recent.textContent()) ?? '';
        return titles.filter((t) => text.includes(t)).length;
      })
      .toBe(3);
    await screenshot(page, 'console-recent-actions');
    for (const title of titles) {
      const res = await api(`/api/products?q=${encodeURIComponent(title)}&per_page=5`);
      expect(await res.json()).toEqual([]);
    }
  });

  it('two browsers edit one product: the second sees the conflict and reapplies', async () => {
    const title = `Console conflict ${RUN}`;
    const id = await createProduct(title);
    const other = await support.newContext(browser);
    const first = await signedIn(other);
    await first.goto(`/admin/products/${id}/edit`);
    await adminPage.goto(`/admin/products/${id}/edit`);
    await expect.poll(() => first.getByLabel('Title').inputValue()).toBe(title);
    await expect.poll(() => adminPage.getByLabel('Title').inputValue()).toBe(title);

    await first.getByLabel('Title').fill(`${title} (theirs)`);
    await first.getByRole('button', { name: 'Save changes' }).click();
    await first.waitForURL('**/admin/products');

    await adminPage.getByLabel('Title').fill(`${title} (mine)`);
    await adminPage.getByRole('button', { name: 'Save changes' }).click();
    const conflict = adminPage.getByRole('region', { name: 'This product changed while you were editing it' });
    await conflict.waitFor();
    await conflict.getByText(`${title} (theirs)`).first().waitFor();
    await conflict.getByRole('list', { name: 'Changes since you opened it' }).waitFor();
    await screenshot(adminPage, 'console-edit-conflict');
    await conflict.getByRole('button', { name: 'Reapply my changes' }).click();
    await adminPage.waitForURL('**/admin/products');
    const saved = (await (await api(`/api/products/${id}`)).json()) as { title: string };
    expect(saved.title).toBe(`${title} (mine)`);

    const history = (await (await api(`/api/products/${id}/history`, { headers: { Cookie: cookie } })).json()) as {
      action: string;
    }[];
    expect(history.map((e) => e.action)).toEqual(['product.update', 'product.update', 'product.create']);
    await other.close();
  });

  it('saw no console errors, CSP violations or uncaught exceptions', () => {
    expect(problems.join('\n')).toBe('');
  });
});
