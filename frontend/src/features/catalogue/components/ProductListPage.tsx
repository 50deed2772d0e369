import { type ChangeEvent, useEffect, useId, useRef, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { EmptyState } from '@/components/ui/EmptyState';
import { ErrorAlert } from '@/components/ui/ErrorAlert';
import { BoxIcon, PlusIcon } from '@/components/ui/icons';
import { LoadingState } from '@/components/ui/LoadingState';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { paths } from '@/lib/paths';
import type { Product } from '@/lib/product';
import { isSignInRequired } from '@/lib/session';
import { deleteProduct } from '../api/products';
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
import { ListPagination } from './ListPagination';
import { ProductSearchForm } from './ProductSearchForm';
import { ProductTable } from './ProductTable';

/**
 * `paths.products`: the catalogue as a table of numbered pages from the server, with
 * search, sortable columns, page size and page links, all in the URL (list-query.ts); add,
 * edit and delete.
 */
export function ProductListPage() {
  useDocumentTitle('Products');
  const location = useLocation();
  const navigate = useNavigate();
  const query = parseListQuery(new URLSearchParams(location.search));
  const { status, data, dataQuery, error, reload, setData } = useProductPage(query);
  const loading = status === 'loading';

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
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();
  const perPageId = useId();

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

  function openDelete(product: Product) {
    setDeleteError(null);
    setToDelete(product);
  }

  function closeDelete() {
    if (deleting) return;
    setToDelete(null);
    setDeleteError(null);
  }

  async function confirmDelete() {
    if (!toDelete) return;
    const product = toDelete;
    setDeleting(true);
    setDeleteError(null);
    try {
      await deleteProduct(product.id);
      setFlash({ kind: 'success', text: `Deleted “${product.title}”.` });
    } catch (error) {
      if (isSignInRequired(error)) {
        // Nothing was deleted; the sign-in page says the session ended.
        sessionEnded();
        return;
      }
      const e = toApiError(error);
      if (!e.isNotFound) {
        setDeleteError(`“${product.title}” was not deleted. ${describeError(e)}`);
        setDeleting(false);
        return;
      }
      setFlash({ kind: 'info', text: `“${product.title}” had already been deleted.` });
    }
    // The row goes at once (the dialog then gives focus to the page, its Delete button being
    // gone), and the page is asked again: the next product moves up into it.
    setData((page) => ({
      products: page.products.filter((p) => p.id !== product.id),
      total: Math.max(0, page.total - 1),
    }));
    reload();
    setDeleting(false);
    setToDelete(null);
  }

  // What is shown is the last page loaded, for the query it answers (older while loading).
  const shownQuery = dataQuery ?? query;
  const products = data?.products ?? [];
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
          <button type="button" className="btn btn-outline-secondary" onClick={reload} disabled={loading}>
            Refresh
          </button>
          <Link to={paths.createProduct} className="btn btn-primary d-inline-flex align-items-center gap-2">
            <PlusIcon />
            Add product
          </Link>
        </div>
      </div>

      {flash ? (
        <DismissibleAlert variant={flash.kind} role="status" onDismiss={() => setFlash(null)}>
          {flash.text}
        </DismissibleAlert>
      ) : null}

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
          </div>

          {/* The page shown stays while the next loads, dimmed (not the status above it). */}
          <div className={`product-results${loading ? ' is-loading' : ''}`} aria-busy={loading}>
            {products.length > 0 ? (
              <ProductTable products={products} query={query} busy={loading} onDelete={openDelete} />
            ) : null}

            {total === 0 && shownQuery.q === '' ? (
              <EmptyState
                title="No products yet"
                icon={<BoxIcon />}
                action={
                  <Link to={paths.createProduct} className="btn btn-primary">
                    Add your first product
                  </Link>
                }
              >
                Products you add here appear in the shop a moment later.
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

      <ConfirmDialog
        open={toDelete !== null}
        title="Delete product?"
        confirmLabel="Delete"
        busyLabel="Deleting…"
        busy={deleting}
        error={deleteError}
        onConfirm={() => void confirmDelete()}
        onCancel={closeDelete}
      >
        <p className="mb-0">
          Delete <strong className="text-break">“{toDelete?.title}”</strong>? It disappears from the shop too. This cannot be
          undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
