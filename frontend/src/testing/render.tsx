import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
// RouterProvider from 'react-router' (not 'react-router/dom'): under Vitest the two entry
// points can load separate copies of the router context.
import { createMemoryRouter, type RouteObject, RouterProvider } from 'react-router';

/**
 * Renders routes in a memory router at `path` (with navigation `state` when given), with a
 * stub page for any other path so a navigation is visible ("Stub page").
 */
export function renderRoutes(routes: RouteObject[], path: string, state?: unknown) {
  const all: RouteObject[] = [
    ...routes,
    { path: '*', element: <StubPage /> },
  ];
  const url = new URL(path, 'http://test.invalid');
  const entry = state === undefined ? path : { pathname: url.pathname, search: url.search, hash: url.hash, state };
  const router = createMemoryRouter(all, { initialEntries: [entry] });
  const user = userEvent.setup();
  const utils = render(<RouterProvider router={router} />);
  return { ...utils, router, user };
}

function StubPage(): ReactElement {
  return <p>Stub page</p>;
}
