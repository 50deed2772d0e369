// What the browser stories share: the stack's address and first admin, Chromium, contexts
// and pages that record console errors, screenshots, and the test's own API calls.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const BASE_URL = (process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
// The stack's first admin (scripts/e2e-browser.sh passes ADMIN_EMAIL and ADMIN_PASSWORD).
export const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL ?? '';
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD ?? '';
export const SESSION_COOKIE = 'shop_admin_session';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Console errors and uncaught exceptions seen in a story's pages (CSP violations show up here). */
export const problems: string[] = [];

/**
 * The failed loads a story provokes on purpose, which Chrome logs as console errors ("Failed
 * to load resource: the server responded with a status of 401 …"): by status and path. Any
 * other failed load is a problem, like any other console error.
 */
const expectedFailedLoads: [number, RegExp][] = [];

/** Tells the pages that a failed load of `path` with `status` is on purpose. */
export function expectFailedLoads(loads: [number, RegExp][]): void {
  expectedFailedLoads.push(...loads);
}

function expectedFailedLoad(text: string, url: string): boolean {
  if (!text.startsWith('Failed to load resource:')) return false;
  const resource = new URL(url, BASE_URL);
  // Product images from other hosts may not load offline.
  if (resource.origin !== BASE_URL && text.includes('net::')) return true;
  const status = Number(/status of (\d{3})/.exec(text)?.[1]);
  return resource.origin === BASE_URL && expectedFailedLoads.some(([s, path]) => s === status && path.test(resource.pathname));
}

export async function newContext(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport, baseURL: BASE_URL });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

/** A page whose console errors and uncaught exceptions land in [`problems`]. */
export async function newPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' && !expectedFailedLoad(message.text(), message.location().url)) {
      problems.push(`${page.url()}: ${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: ${error.message}`));
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, timeout: 15_000 });
}

export async function api(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${BASE_URL}${path}`, { ...init, signal: AbortSignal.timeout(5_000) });
}

/** A new admin session for the test's own API calls: its `Cookie` header. */
export async function apiSignIn(): Promise<string> {
  const res = await api('/api/auth/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (res.status !== 200 || !cookie) throw new Error(`E2E: signing in through the API answered ${res.status}`);
  return cookie.split(';')[0]!;
}

/** Signs in on the sign-in page shown. */
export async function signIn(page: Page, password = ADMIN_PASSWORD): Promise<void> {
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Checks the stack answers (a clear message when it is not there) and starts Chromium. */
export async function launch(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  if (!ADMIN_EMAIL || !ADMIN_PASSWORD) {
    throw new Error('E2E: set E2E_ADMIN_EMAIL and E2E_ADMIN_PASSWORD to an admin of the stack (scripts/e2e-browser.sh does).');
  }
  for (const path of ['/', '/api/products?per_page=1', '/flask/api/products?limit=1']) {
    let status: number;
    try {
      status = (await api(path)).status;
    } catch (error) {
      throw new Error(`E2E: ${BASE_URL}${path} is not reachable (${String(error)}). Start the stack and nginx first.`);
    }
    if (status !== 200) throw new Error(`E2E: ${BASE_URL}${path} answered ${status}, expected 200.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
    timeout: 30_000,
  });
}
