import { render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactElement } from 'react';
// RouterProvider from 'react-router' (not 'react-router/dom'): under Vitest the two entry
// points can load separate copies of the router context.
import { createMemoryRouter, type RouteObject, RouterProvider } from 'react-router';

/**
 * Renders routes in a memory router at `path`, with a stub page for any other path so a
 * navigation is visible ("Stub page /x").
 */
export function renderRoutes(routes: RouteObject[], path: string) {
  const all: RouteObject[] = [
    ...routes,
    { path: '*', element: <StubPage /> },
  ];
  const router = createMemoryRouter(all, { initialEntries: [path] });
  const user = userEvent.setup();
  const utils = render(<RouterProvider router={router} />);
  return { ...utils, router, user };
}

function StubPage(): ReactElement {
  return <p>Stub page</p>;
}
