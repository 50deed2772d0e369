import type { MouseEvent, ReactNode } from 'react';
import { Outlet } from 'react-router';
import { Navbar } from './Navbar';

function skipToMain(event: MouseEvent<HTMLAnchorElement>) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}

interface AppLayoutProps {
  /** Shown under the navbar (the admin pages' signed-in admin and Sign out). */
  account?: ReactNode;
  /** The page; by default the matched child route. */
  children?: ReactNode;
}

/** The frame of every page: skip link, navbar, main region, footer. */
export function AppLayout({ account, children }: AppLayoutProps) {
  return (
    <div className="d-flex flex-column min-vh-100">
      <a className="visually-hidden-focusable skip-link btn btn-light" href="#main" onClick={skipToMain}>
        Skip to main content
      </a>
      <Navbar account={account} />
      <main id="main" tabIndex={-1} className="container flex-grow-1 py-4">
        {children ?? <Outlet />}
      </main>
      <footer className="border-top bg-body py-3 mt-4">
        <div className="container small text-body-secondary">A small shop · likes are counted once per shopper</div>
      </footer>
    </div>
  );
}
