import { type ChangeEvent, type MouseEvent, useEffect, useRef } from 'react';
import { Link } from 'react-router';
import { ImageWithFallback } from '@/components/ui/ImageWithFallback';
import { editProductPath, productHistoryPath } from '@/lib/paths';
import type { Product } from '@/lib/product';
import { type ListQuery, listHref, type SortField, sortParts, toggledSort } from '../list-query';
import type { RowSelection } from '../use-row-selection';

interface ProductTableProps {
  products: Product[];
  /** The table's state (the sort shown in the headers and their links). */
  query: ListQuery;
  /** While true the rows are an older page kept in view: dimmed and `aria-busy`. */
  busy: boolean;
  /** The rows' checkboxes, Edit and Delete: only for those who may change the catalogue. */
  editing: { selection: RowSelection; onDelete: (product: Product) => void } | null;
}

/** A Shift+click on a checkbox would also select the page's text between the clicks. */
function noTextSelection(event: MouseEvent) {
  if (event.shiftKey) event.preventDefault();
}

/**
 * One page of the catalogue: id, image, title, likes, History, and for admins a checkbox
 * per row (Shift+click: a range; the header's: all on the page), Edit and Delete; sortable headers.
 */
export function ProductTable({ products, query, busy, editing }: ProductTableProps) {
  const selection = editing?.selection ?? null;
  return (
    <div className="card shadow-sm">
      <div className="table-responsive position-relative">
        <table className="table table-hover align-middle mb-0 product-table" aria-busy={busy}>
          <caption className="visually-hidden">Products in the catalogue</caption>
          <thead className="table-light">
            <tr>
              {selection ? (
                <th scope="col" className="select-cell">
                  <SelectAll selection={selection} />
                </th>
              ) : null}
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
            {products.map((product, index) => (
              <tr key={product.id} className={selection?.isSelected(product.id) ? 'table-active' : undefined}>
                {selection ? (
                  <td className="select-cell">
                    <input
                      type="checkbox"
                      className="form-check-input"
                      aria-label={`Select ${product.title}`}
                      checked={selection.isSelected(product.id)}
                      onMouseDown={noTextSelection}
                      onChange={(event: ChangeEvent<HTMLInputElement>) => {
                        // A checkbox's change comes from its click: Shift+click selects a range.
                        const native = event.nativeEvent;
                        selection.toggle(index, event.target.checked, native instanceof MouseEvent && native.shiftKey);
                      }}
                    />
                  </td>
                ) : null}
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
                      to={productHistoryPath(product.id)}
                      className="btn btn-sm btn-outline-secondary"
                      aria-label={`History of ${product.title}`}
                    >
                      History
                    </Link>
                    {editing ? (
                      <>
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
                          onClick={() => editing.onDelete(product)}
                          aria-label={`Delete ${product.title}`}
                        >
                          Delete
                        </button>
                      </>
                    ) : null}
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

/** The header's checkbox: checked when every row is, mixed when some are. */
function SelectAll({ selection }: { selection: RowSelection }) {
  const ref = useRef<HTMLInputElement>(null);
  const mixed = selection.someSelected && !selection.allSelected;
  useEffect(() => {
    if (ref.current) ref.current.indeterminate = mixed;
  }, [mixed]);
  return (
    <input
      ref={ref}
      type="checkbox"
      className="form-check-input"
      aria-label="Select all on this page"
      checked={selection.allSelected}
      onChange={(event) => selection.toggleAll(event.target.checked)}
    />
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
