import { api } from '@/lib/api-client';

export const ALREADY_LIKED_STATUS = 400;

/**
 * POST /flask/api/products/{id}/like. The shopper is the `shopper_id` cookie main-svc sets
 * on the first like (sent along because requests are same-origin).
 * Rejects with an ApiError: 400 already liked, 404 product gone, 5xx/0 failures.
 */
export async function likeProduct(id: number): Promise<void> {
  await api.post<{ message?: string }>(`/flask/api/products/${encodeURIComponent(String(id))}/like`);
}
