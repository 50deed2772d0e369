import { type ChangeEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { EmptyState } from '@/components/ui/EmptyState';
import { ErrorAlert } from '@/components/ui/ErrorAlert';
import { BoxIcon, PlusIcon } from '@/components/ui/icons';
import { LoadingState } from '@/components/ui/LoadingState';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { describeError } from '@/lib/api-client';
import { paths } from '@/lib/paths';
import type { Product } from '@/lib/product';
import { canChangeCatalogue } from '@/lib/roles';
import type { BulkDeleteResult } from '../api/products';
import { bulkDeleteMessage } from '../bulk-outcome';
import { type Flash, readFlash } from '../flash';
import {
  formatCount,
  type ListQuery,
  listHref,
  listSearch,
  normalizeSearch,
  PER_PAGE_OPTIONS,
  type PerPage,
  pageCount,
  parseListQuery,
  productCount,
} from '../list-query';
import { useProductPage } from '../use-product-page';
import { useRowSelection } from '../use-row-selection';
import { BulkDeleteDialog } from './BulkDeleteDialog';
import { DeleteProductDialog } from './DeleteProductDialog';
import { ListPagination } from './ListPagination';
import { ProductSearchForm } from './ProductSearchForm';
import { ProductTable } from './ProductTable';

interface ProductListPageProps {
  /**
   * Shown beside the table (under it on narrow screens): the app puts "Recent actions"
   * here. `changes` grows with each change made on this page (and each Refresh).
   */
  aside?: (changes: number) => ReactNode;
}

/**
 * `paths.products`: the catalogue as a table of numbered pages from the server, with
 * search, sortable columns, page size and page links, all in the URL (list-query.ts); for
 * admins also add, edit, delete, and delete the selected rows at once. A viewer sees no
 * control they may not use.
 */
export function ProductListPage({ aside }: ProductListPageProps) {
  useDocumentTitle('Products');
  const location = useLocation();
  const navigate = useNavigate();
  const query = parseListQuery(new URLSearchParams(location.search));
  const { status, data, dataQuery, error, reload, setData } = useProductPage(query);
  const loading = status === 'loading';
  const mayEdit = canChangeCatalogue(useCurrentAdmin());
  const [changes, setChanges] = useState(0);

  // A message from the page that sent us here ("Added …"), or from a delete on this page.
  const [flash, setFlash] = useState<Flash | null>(() => readFlash(location.state));
  // Forget the message in the history entry, so a reload or Back does not show it again.
  useEffect(() => {
    if (readFlash(location.state)) {
      void navigate({ pathname: location.pathname, search: location.search }, { replace: true, state: null });
    }
  }, [location.pathname, location.search, location.state, navigate]);

  // A page link under a long page was followed: bring the top of the table back into view
  // (as a full page load would), only when it is scrolled out of sight above.
  const resultsRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const results = resultsRef.current;
    if (results && results.getBoundingClientRect().top < 0) results.scrollIntoView({ block: 'start' });
  }, [location.search]);

  const [toDelete, setToDelete] = useState<Product | null>(null);
  const [bulkOpen, setBulkOpen] = useState(false);
  const perPageId = useId();

  // What is shown is the last page loaded, for the query it answers (older while loading).
  const shownQuery = dataQuery ?? query;
  const products = data?.products ?? [];
  // Selected rows belong to the table state in the URL: another page, search or sort clears them.
  const selection = useRowSelection(listSearch(query), products);

  /** Shows the table in another state (a new history entry, like following a link). */
  function show(next: ListQuery) {
    const search = listSearch(next);
    void navigate({ pathname: paths.products, search }, { replace: search === location.search });
    // The same search again (Enter twice): ask again rather than doing nothing.
    if (search === location.search) reload();
  }

  function handleSearch(q: string) {
    show({ ...query, q: normalizeSearch(q), page: 1 });
  }

  function handlePerPage(event: ChangeEvent<HTMLSelectElement>) {
    show({ ...query, perPage: Number(event.target.value) as PerPage, page: 1 });
  }

  function refresh() {
    reload();
    setChanges((n) => n + 1);
  }

  function handleDeleted(product: Product, outcome: 'deleted' | 'gone') {
    setFlash(
      outcome === 'deleted'
        ? { kind: 'success', text: `Deleted “${product.title}”.` }
        : { kind: 'info', text: `“${product.title}” had already been deleted.` },
    );
    // The row goes at once (the dialog then gives focus to the page, its Delete button being
    // gone), and the page is asked again: the next product moves up into it.
    setData((page) => ({
      products: page.products.filter((p) => p.id !== product.id),
      total: Math.max(0, page.total - 1),
    }));
    selection.remove([product.id]);
    setToDelete(null);
    refresh();
  }

  function handleBulkDeleted(result: BulkDeleteResult) {
    setFlash(bulkDeleteMessage(result, selection.selected));
    const ids = new Set(result.results.map((r) => r.id));
    setData((page) => ({
      products: page.products.filter((p) => !ids.has(p.id)),
      total: Math.max(0, page.total - result.deleted),
    }));
    selection.clear();
    setBulkOpen(false);
    refresh();
  }

  const total = data?.total ?? 0;
  const shownLast = pageCount(total, shownQuery.perPage);
  // The page links follow the URL at once (the old total until the new one arrives).
  const last = pageCount(total, query.perPage);
  const pastTheEnd = data !== null && products.length === 0 && total > 0;

  return (
    <>
      <div className="d-flex flex-wrap align-items-center justify-content-between gap-3 mb-4">
        <div>
          <h1 className="h2 mb-1">Products</h1>
          <p className="text-body-secondary mb-0">Manage the catalogue shoppers see in the shop.</p>
        </div>
        <div className="d-flex gap-2">
          <button type="button" className="btn btn-outline-secondary" onClick={refresh} disabled={loading}>
            Refresh
          </button>
          {mayEdit ? (
            <Link to={paths.createProduct} className="btn btn-primary d-inline-flex align-items-center gap-2">
              <PlusIcon />
              Add product
            </Link>
          ) : null}
        </div>
      </div>

      {flash ? (
        <DismissibleAlert variant={flash.kind} role="status" onDismiss={() => setFlash(null)}>
          {flash.text}
        </DismissibleAlert>
      ) : null}

      <div className="row g-4">
        <div className={aside ? 'col-12 col-xl-9' : 'col-12'}>
          <div className="d-flex flex-wrap align-items-center gap-3 mb-3">
            <ProductSearchForm q={query.q} onSearch={handleSearch} />
            <div className="d-flex align-items-center gap-2">
              <label htmlFor={perPageId} className="text-nowrap mb-0">
                Per page
              </label>
              <select id={perPageId} className="form-select w-auto" value={query.perPage} onChange={handlePerPage}>
                {PER_PAGE_OPTIONS.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
          </div>

          {status === 'error' && error ? (
            <ErrorAlert title="We couldn’t load the catalogue." onRetry={reload}>
              {describeError(error)}
            </ErrorAlert>
          ) : null}

          {data === null && loading ? <LoadingState label="Loading products…" /> : null}

          {data !== null ? (
            <div ref={resultsRef}>
              <div className="d-flex flex-wrap align-items-center justify-content-between gap-2 mb-2">
                <p className="mb-0 text-body-secondary">
                  <span className="fw-semibold text-body">{productCount(total)}</span>
                  {shownQuery.q !== '' ? <> matching “{shownQuery.q}”</> : null}
                  {total > 0 && !pastTheEnd ? (
                    <>
                      {' '}
                      · page {formatCount(shownQuery.page)} of {formatCount(shownLast)}
                    </>
                  ) : null}
                  {shownQuery.q !== '' && total > 0 ? (
                    <>
                      {' '}
                      · <Link to={listHref({ ...shownQuery, q: '', page: 1 })}>Show all products</Link>
                    </>
                  ) : null}
                </p>
                {loading ? (
                  <span className="d-inline-flex align-items-center gap-2 small text-body-secondary" role="status">
                    <span className="spinner-border spinner-border-sm" aria-hidden="true" />
                    Loading products…
                  </span>
                ) : null}
                {mayEdit && products.length > 0 ? (
                  <div className="d-flex align-items-center gap-2">
                    {selection.selected.size > 0 ? (
                      <button type="button" className="btn btn-sm btn-link" onClick={selection.clear}>
                        Clear selection
                      </button>
                    ) : null}
                    <button
                      type="button"
                      className="btn btn-sm btn-outline-danger"
                      disabled={selection.selected.size === 0}
                      onClick={() => setBulkOpen(true)}
                    >
                      Delete selected ({selection.selected.size})
                    </button>
                  </div>
                ) : null}
              </div>

              {/* The page shown stays while the next loads, dimmed (not the status above it). */}
              <div className={`product-results${loading ? ' is-loading' : ''}`} aria-busy={loading}>
                {products.length > 0 ? (
                  <ProductTable
                    products={products}
                    query={query}
                    busy={loading}
                    editing={mayEdit ? { selection, onDelete: setToDelete } : null}
                  />
                ) : null}

                {total === 0 && shownQuery.q === '' ? (
                  <EmptyState
                    title="No products yet"
                    icon={<BoxIcon />}
                    action={
                      mayEdit ? (
                        <Link to={paths.createProduct} className="btn btn-primary">
                          Add your first product
                        </Link>
                      ) : null
                    }
                  >
                    {mayEdit ? 'Products you add here appear in the shop a moment later.' : 'Products an admin adds appear here.'}
                  </EmptyState>
                ) : null}

                {total === 0 && shownQuery.q !== '' ? (
                  <EmptyState
                    title={`No products match “${shownQuery.q}”`}
                    icon={<BoxIcon />}
                    action={
                      <Link to={listHref({ ...shownQuery, q: '', page: 1 })} className="btn btn-outline-primary">
                        Clear the search
                      </Link>
                    }
                  >
                    Titles are matched word by word; the last word may be the start of one.
                  </EmptyState>
                ) : null}

                {pastTheEnd ? (
                  <EmptyState
                    title={`There is no page ${formatCount(shownQuery.page)}`}
                    icon={<BoxIcon />}
                    action={
                      <Link to={listHref({ ...shownQuery, page: shownLast })} className="btn btn-primary">
                        Go to the last page
                      </Link>
                    }
                  >
                    The last page is page {formatCount(shownLast)}: products may have been deleted meanwhile.
                  </EmptyState>
                ) : null}
              </div>

              {total > 0 && !pastTheEnd && last > 1 ? (
                <div className="mt-3">
                  <ListPagination query={query} last={last} />
                </div>
              ) : null}
            </div>
          ) : null}
        </div>
        {aside ? <div className="col-12 col-xl-3">{aside(changes)}</div> : null}
      </div>

      <DeleteProductDialog product={toDelete} onCancel={() => setToDelete(null)} onDeleted={handleDeleted} />
      <BulkDeleteDialog
        open={bulkOpen}
        selection={selection.selected}
        onCancel={() => setBulkOpen(false)}
        onDeleted={handleBulkDeleted}
      />
    </>
  );
}
