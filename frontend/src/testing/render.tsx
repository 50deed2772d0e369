import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
// RouterProvider from 'react-router' (not 'react-router/dom'): under Vitest the two entry
// points can load separate copies of the router context.
import { createMemoryRouter, type RouteObject, RouterProvider } from 'react-router';
import { CurrentAdminContext } from '@/hooks/use-current-admin';
import type { CurrentAdmin, Role } from '@/lib/roles';

export interface RenderOptions {
  /**
   * Who is signed in, as the admin area would tell its pages: a role (an account named
   * "Ada Lovelace", id 3, with that role), an account, or null for nobody. Default: an admin.
   * A page inside a rendered AdminArea gets AdminArea's own answer instead.
   */
  as?: Role | CurrentAdmin | null;
}

/** The account a test's page sees for a role. */
export function testAccount(role: Role): CurrentAdmin {
  return { id: 3, name: 'Ada Lovelace', email: 'ada@example.com', role };
}

/**
 * Renders routes in a memory router at `path` (with navigation `state` when given), with a
 * stub page for any other path so a navigation is visible ("Stub page").
 */
export function renderRoutes(routes: RouteObject[], path: string, state?: unknown, options: RenderOptions = {}) {
  const all: RouteObject[] = [
    ...routes,
    { path: '*', element: <StubPage /> },
  ];
  const url = new URL(path, 'http://test.invalid');
  const entry = state === undefined ? path : { pathname: url.pathname, search: url.search, hash: url.hash, state };
  const router = createMemoryRouter(all, { initialEntries: [entry] });
  const user = userEvent.setup();
  const as = options.as === undefined ? 'admin' : options.as;
  const admin = typeof as === 'string' ? testAccount(as) : as;
  const refreshes = { count: 0 };
  const value = admin ? { admin, refresh: () => void refreshes.count++ } : null;
  const utils = render(
    <CurrentAdminContext value={value}>
      <RouterProvider router={router} />
    </CurrentAdminContext>,
  );
  return { ...utils, router, user, refreshes };
}

function StubPage(): ReactElement {
  return <p>Stub page</p>;
}
