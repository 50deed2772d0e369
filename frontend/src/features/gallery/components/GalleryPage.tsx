import { useCallback, useEffect, useState } from 'react';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { EmptyState } from '@/components/ui/EmptyState';
import { BoxIcon } from '@/components/ui/icons';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useResource } from '@/hooks/use-resource';
import type { Product } from '@/lib/product';
import { listMyLikes, listShopProducts } from '../api/shop-products';
import { ProductCard } from './ProductCard';

/** `paths.shop`: the shop's products as cards that shoppers can like. */
export function GalleryPage() {
  useDocumentTitle('Shop');
  const { state, reload, refresh, setData } = useResource(useCallback((signal: AbortSignal) => listShopProducts(signal), []));
  const [notice, setNotice] = useState<string | null>(null);
  // What this shopper liked before, so those cards show it from the first paint. Only a
  // nicety: if it cannot be read, the cards simply start unliked.
  const [likedBefore, setLikedBefore] = useState<ReadonlySet<number>>(new Set());
  useEffect(() => {
    const controller = new AbortController();
    listMyLikes(controller.signal).then(
      (ids) => setLikedBefore(new Set(ids)),
      () => undefined,
    );
    return () => controller.abort();
  }, []);

  const handleLiked = useCallback(
    (id: number) => setData((products) => products.map((p) => (p.id === id ? { ...p, likes: p.likes + 1 } : p))),
    [setData],
  );

  const handleGone = useCallback(
    (product: Product) => {
      setNotice(`“${product.title}” is no longer available, so we removed it from the list.`);
      setData((products) => products.filter((p) => p.id !== product.id));
      refresh();
    },
    [refresh, setData],
  );

  return (
    <>
      <div className="mb-4">
        <h1 className="h2 mb-1">Our products</h1>
        <p className="text-body-secondary mb-0">Browse the shop and like the things you love.</p>
      </div>

      {notice ? (
        <DismissibleAlert variant="info" role="alert" onDismiss={() => setNotice(null)}>
          {notice}
        </DismissibleAlert>
      ) : null}

      <ResourceStatus state={state} loadingLabel="Loading products…" errorTitle="We couldn’t load the products." onRetry={reload} />

      {state.status === 'success' && state.data.length === 0 ? (
        <EmptyState
          title="Nothing in the shop yet"
          icon={<BoxIcon />}
          action={
            <button type="button" className="btn btn-outline-primary" onClick={reload}>
              Check again
            </button>
          }
        >
          New products are on their way. Check back soon!
        </EmptyState>
      ) : null}

      {state.status === 'success' && state.data.length > 0 ? (
        <ul className="row row-cols-1 row-cols-sm-2 row-cols-lg-3 row-cols-xl-4 g-4 list-unstyled mb-0" aria-label="Products">
          {state.data.map((product) => (
            <li className="col" key={product.id}>
              <ProductCard
                product={product}
                likedBefore={likedBefore.has(product.id)}
                onLiked={handleLiked}
                onGone={handleGone}
              />
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
