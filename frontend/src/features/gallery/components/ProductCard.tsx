import { memo, useId, useState } from 'react';
import { ImageWithFallback } from '@/components/ui/ImageWithFallback';
import { HeartIcon } from '@/components/ui/icons';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { describeError, toApiError } from '@/lib/api-client';
import type { Product } from '@/lib/product';
import { ALREADY_LIKED_STATUS, likeProduct } from '../api/shop-products';
import { likesLabel } from '../likes-label';

type LikeState =
  | { kind: 'idle' }
  | { kind: 'pending' }
  | { kind: 'liked' }
  | { kind: 'already'; message: string }
  | { kind: 'error'; message: string };

interface ProductCardProps {
  product: Product;
  /** This shopper liked it on an earlier visit (GET /flask/api/likes). */
  likedBefore?: boolean;
  /**
   * The like was counted: the page bumps the count. `sentAt` (`performance.now()` when the
   * like was sent) tells whether a live count that arrived meanwhile already includes it.
   */
  onLiked: (id: number, sentAt: number) => void;
  /** The product no longer exists (404): the page tells the person and refreshes. */
  onGone: (product: Product) => void;
}

/**
 * One product. Memoised: a live count re-renders only the card whose product changed (the
 * gallery keeps unchanged products as the same objects and its callbacks stable).
 */
export const ProductCard = memo(function ProductCard({ product, likedBefore = false, onLiked, onGone }: ProductCardProps) {
  const titleId = useId();
  const messageId = useId();
  const [like, setLike] = useState<LikeState>({ kind: 'idle' });

  async function handleLike() {
    if (like.kind === 'pending') return;
    setLike({ kind: 'pending' });
    const sentAt = performance.now();
    try {
      await likeProduct(product.id);
      setLike({ kind: 'liked' });
      onLiked(product.id, sentAt);
    } catch (error) {
      const e = toApiError(error);
      if (e.status === ALREADY_LIKED_STATUS) {
        setLike({ kind: 'already', message: e.serverMessage ?? 'You already liked this product.' });
      } else if (e.status === 404) {
        setLike({ kind: 'idle' });
        onGone(product);
      } else {
        setLike({ kind: 'error', message: `Your like was not saved. ${describeError(e)}` });
      }
    }
  }

  const pending = like.kind === 'pending';
  const hearted = like.kind === 'liked' || like.kind === 'already' || (like.kind === 'idle' && likedBefore);

  return (
    // tabIndex -1: the gallery moves focus to the first card of a page loaded by keyboard.
    <article className="card h-100 shadow-sm product-card" aria-labelledby={titleId} tabIndex={-1}>
      <div className="ratio ratio-4x3 card-img-top overflow-hidden bg-body-secondary">
        <ImageWithFallback
          src={product.image}
          alt={product.title}
          className="object-fit-cover"
          fallbackText="Image unavailable"
        />
      </div>
      <div className="card-body d-flex flex-column">
        <h2 className="h5 card-title text-break" id={titleId}>
          {product.title}
        </h2>
        <p className="card-text text-body-secondary d-flex align-items-center gap-2 mb-3">
          <HeartIcon className="text-danger" filled />
          <span>{likesLabel(product.likes)}</span>
        </p>
        <div className="mt-auto">
          <button
            type="button"
            className={`btn ${hearted ? 'btn-danger' : 'btn-outline-danger'} d-inline-flex align-items-center gap-2${pending ? ' disabled' : ''}`}
            onClick={() => void handleLike()}
            // aria-disabled rather than disabled: a disabled button would drop keyboard focus.
            aria-disabled={pending || undefined}
            aria-label={`${pending ? 'Liking' : 'Like'} ${product.title}`}
            aria-pressed={hearted}
            aria-describedby={messageId}
          >
            {pending ? <ButtonSpinner /> : <HeartIcon filled={hearted} />}
            <span>{pending ? 'Liking…' : hearted ? 'Liked' : 'Like'}</span>
          </button>
          <div id={messageId} className="like-message small mt-2" role="status" aria-live="polite">
            {like.kind === 'liked' ? <span className="text-success-emphasis">Thanks! Your like was counted.</span> : null}
            {like.kind === 'already' ? <span className="text-warning-emphasis">{like.message}</span> : null}
            {like.kind === 'error' ? (
              <span className="d-flex flex-wrap align-items-center gap-2 text-danger-emphasis">
                <span>{like.message}</span>
                <button type="button" className="btn btn-link btn-sm p-0 align-baseline" onClick={() => void handleLike()}>
                  Try again
                </button>
              </span>
            ) : null}
          </div>
        </div>
      </div>
    </article>
  );
});
