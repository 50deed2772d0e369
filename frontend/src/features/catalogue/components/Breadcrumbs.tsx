import { Link } from 'react-router';
import { paths } from '@/lib/paths';

export function Breadcrumbs({ current }: { current: string }) {
  return (
    <nav aria-label="Breadcrumb">
      <ol className="breadcrumb mb-2">
        <li className="breadcrumb-item">
          <Link to={paths.products}>Products</Link>
        </li>
        <li className="breadcrumb-item active text-truncate breadcrumb-current" aria-current="page">
          {current}
        </li>
      </ol>
    </nav>
  );
}
