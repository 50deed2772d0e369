import type { ReactNode } from 'react';
import { Link, NavLink } from 'react-router';
import { BagIcon } from '@/components/ui/icons';
import { paths } from '@/lib/paths';

const navLinkClass = ({ isActive }: { isActive: boolean }) => `nav-link px-3${isActive ? ' active fw-semibold' : ''}`;

/** The site's navigation, and under it `account` when given (admin pages). */
export function Navbar({ account }: { account?: ReactNode }) {
  return (
    <header>
      <nav className="navbar navbar-expand bg-dark border-bottom border-body" data-bs-theme="dark" aria-label="Main">
        <div className="container">
          <Link className="navbar-brand d-flex align-items-center gap-2 fw-semibold" to={paths.shop}>
            <BagIcon />
            <span>Little Shop</span>
          </Link>
          <ul className="navbar-nav ms-auto">
            <li className="nav-item">
              <NavLink className={navLinkClass} to={paths.shop} end>
                Shop
              </NavLink>
            </li>
            <li className="nav-item">
              <NavLink className={navLinkClass} to={paths.products}>
                Admin
              </NavLink>
            </li>
          </ul>
        </div>
      </nav>
      {account}
    </header>
  );
}
