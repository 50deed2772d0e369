import type { MouseEvent } from 'react';
import { Outlet } from 'react-router';
import { Navbar } from './Navbar';

function skipToMain(event: MouseEvent<HTMLAnchorElement>) {
  event.preventDefault();
  document.getElementById('main')?.focus();
}

/** The frame of every page: skip link, navbar, main region, footer. */
export function AppLayout() {
  return (
    <div className="d-flex flex-column min-vh-100">
      <a className="visually-hidden-focusable skip-link btn btn-light" href="#main" onClick={skipToMain}>
        Skip to main content
      </a>
      <Navbar />
      <main id="main" tabIndex={-1} className="container flex-grow-1 py-4">
        <Outlet />
      </main>
      <footer className="border-top bg-body py-3 mt-4">
        <div className="container small text-body-secondary">A small shop · likes are counted once per shopper</div>
      </footer>
    </div>
  );
}
