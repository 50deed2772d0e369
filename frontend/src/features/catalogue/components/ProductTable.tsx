import { Link } from 'react-router';
import { ImageWithFallback } from '@/components/ui/ImageWithFallback';
import { editProductPath } from '@/lib/paths';
import type { Product } from '@/lib/product';
import { type ListQuery, listHref, type SortField, sortParts, toggledSort } from '../list-query';

interface ProductTableProps {
  products: Product[];
  /** The table's state (the sort shown in the headers and their links). */
  query: ListQuery;
  /** While true the rows are an older page kept in view: dimmed and `aria-busy`. */
  busy: boolean;
  onDelete: (product: Product) => void;
}

/** One page of the catalogue: id, image, title, likes, Edit and Delete; sortable headers. */
export function ProductTable({ products, query, busy, onDelete }: ProductTableProps) {
  return (
    <div className="card shadow-sm">
      <div className="table-responsive position-relative">
        <table className="table table-hover align-middle mb-0 product-table" aria-busy={busy}>
          <caption className="visually-hidden">Products in the catalogue</caption>
          <thead className="table-light">
            <tr>
              <SortHeader field="id" label="ID" query={query} className="text-end d-none d-sm-table-cell" />
              <th scope="col">Image</th>
              <SortHeader field="title" label="Title" query={query} />
              <SortHeader field="likes" label="Likes" query={query} className="text-end" />
              <th scope="col" className="text-end">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {products.map((product) => (
              <tr key={product.id}>
                <td className="text-end text-body-secondary d-none d-sm-table-cell">{product.id}</td>
                <td>
                  <div className="product-thumb rounded overflow-hidden bg-body-secondary">
                    <ImageWithFallback
                      src={product.image}
                      alt={product.title}
                      className="object-fit-cover w-100 h-100"
                      fallbackClassName="w-100 h-100"
                      fallbackText={null}
                      iconSize={20}
                    />
                  </div>
                </td>
                <th scope="row" className="fw-semibold product-title-cell">
                  <span className="d-block text-break">{product.title}</span>
                  <span className="d-none d-sm-block small fw-normal text-body-secondary text-truncate product-url">
                    {product.image}
                  </span>
                </th>
                <td className="text-end">{product.likes}</td>
                <td className="text-end">
                  <div className="d-flex flex-column flex-sm-row gap-2 justify-content-end align-items-end">
                    <Link
                      to={editProductPath(product.id)}
                      className="btn btn-sm btn-outline-secondary"
                      aria-label={`Edit ${product.title}`}
                    >
                      Edit
                    </Link>
                    <button
                      type="button"
                      className="btn btn-sm btn-outline-danger"
                      onClick={() => onDelete(product)}
                      aria-label={`Delete ${product.title}`}
                    >
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

interface SortHeaderProps {
  field: SortField;
  label: string;
  query: ListQuery;
  className?: string;
}

/**
 * A column header that sorts: a link to the table sorted by this column (the other way
 * round when it already is), from page 1; `aria-sort` on the sorted column only.
 */
function SortHeader({ field, label, query, className }: SortHeaderProps) {
  const { field: sorted, direction } = sortParts(query.sort);
  const active = sorted === field;
  const next = toggledSort(query.sort, field);
  const nextDirection = sortParts(next).direction;
  return (
    <th scope="col" className={className} aria-sort={active ? direction : undefined}>
      <Link
        to={listHref({ ...query, sort: next, page: 1 })}
        className="sort-link link-body-emphasis text-decoration-none d-inline-flex align-items-center gap-1"
        title={`Sort by ${label}, ${nextDirection}`}
      >
        {label}
        <span className={`sort-indicator${active ? '' : ' text-body-tertiary'}`} aria-hidden="true">
          {active ? (direction === 'ascending' ? '▲' : '▼') : '↕'}
        </span>
      </Link>
    </th>
  );
}
