import { Link, NavLink } from 'react-router';
import { BagIcon } from '@/components/ui/icons';

const navLinkClass = ({ isActive }: { isActive: boolean }) => `nav-link px-3${isActive ? ' active fw-semibold' : ''}`;

export function Navbar() {
  return (
    <header>
      <nav className="navbar navbar-expand bg-dark border-bottom border-body" data-bs-theme="dark" aria-label="Main">
        <div className="container">
          <Link className="navbar-brand d-flex align-items-center gap-2 fw-semibold" to="/">
            <BagIcon />
            <span>Little Shop</span>
          </Link>
          <ul className="navbar-nav ms-auto">
            <li className="nav-item">
              <NavLink className={navLinkClass} to="/" end>
                Shop
              </NavLink>
            </li>
            <li className="nav-item">
              <NavLink className={navLinkClass} to="/admin/products">
                Admin
              </NavLink>
            </li>
          </ul>
        </div>
      </nav>
    </header>
  );
}
