import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { GalleryPage } from './GalleryPage';

// The first page of the gallery: 48 products from the start.
const PRODUCTS = '/flask/api/products?limit=48';
const mug = { id: 1, title: 'Mug', image: 'https://example.com/mug.png', likes: 0 };
const lamp = { id: 2, title: 'Lamp', image: '/img/lamp.png', likes: 3 };

function renderGallery() {
  return renderRoutes([{ path: '/', element: <GalleryPage /> }], '/');
}

function card(title: string) {
  return screen.getByRole('article', { name: title });
}

describe('GalleryPage', () => {
  it('shows a loading state while the products load', () => {
    mockFetch({ [`GET ${PRODUCTS}`]: 'pending' });
    renderGallery();
    expect(screen.getByRole('status')).toHaveTextContent('Loading products…');
  });

  it('shows cards with image, title and like count', async () => {
    mockFetch({ [`GET ${PRODUCTS}`]: { json: [mug, lamp] } });
    renderGallery();
    expect(await screen.findByRole('heading', { name: 'Mug' })).toBeInTheDocument();
    expect(within(card('Mug')).getByRole('img', { name: 'Mug' })).toHaveAttribute('src', mug.image);
    expect(within(card('Mug')).getByText('0 likes')).toBeInTheDocument();
    expect(within(card('Lamp')).getByText('3 likes')).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: /^Like/ })).toHaveLength(2);
    expect(document.title).toBe('Shop · Little Shop');
  });

  it('shows the products this shopper liked before as liked from the first paint', async () => {
    mockFetch({ [`GET ${PRODUCTS}`]: { json: [mug, lamp] }, 'GET /flask/api/likes': { json: [2] } });
    renderGallery();
    const lampLike = await within(await screen.findByRole('article', { name: 'Lamp' })).findByRole('button', {
      name: 'Like Lamp',
      pressed: true,
    });
    expect(lampLike).toHaveTextContent('Liked');
    expect(within(card('Mug')).getByRole('button', { name: 'Like Mug' })).toHaveAttribute('aria-pressed', 'false');
  });

  it('starts every card unliked when the shopper’s likes cannot be read', async () => {
    mockFetch({ [`GET ${PRODUCTS}`]: { json: [mug] }, 'GET /flask/api/likes': server500 });
    renderGallery();
    expect(await screen.findByRole('heading', { name: 'Mug' })).toBeInTheDocument();
    expect(within(card('Mug')).getByRole('button', { name: 'Like Mug' })).toHaveAttribute('aria-pressed', 'false');
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('shows a friendly empty state', async () => {
    mockFetch({ [`GET ${PRODUCTS}`]: { json: [] } });
    renderGallery();
    expect(await screen.findByRole('heading', { name: 'Nothing in the shop yet' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Check again' })).toBeInTheDocument();
  });

  it('shows an error with a Retry button that loads again', async () => {
    mockFetch({ [`GET ${PRODUCTS}`]: [nginx503, { json: [mug] }] });
    const { user } = renderGallery();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('We couldn’t load the products.');
    expect(alert).toHaveTextContent(/temporarily unavailable/i);
    await user.click(within(alert).getByRole('button', { name: 'Retry' }));
    expect(await screen.findByRole('heading', { name: 'Mug' })).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('counts a like and then shows "already liked" on a second like', async () => {
    const { calls } = mockFetch({
      [`GET ${PRODUCTS}`]: { json: [mug, lamp] },
      'POST /flask/api/products/1/like': [
        { json: { message: 'success' } },
        { status: 400, json: { error: 'You already liked this product.' } },
      ],
    });
    const { user } = renderGallery();
    await screen.findByRole('heading', { name: 'Mug' });
    const likeMug = within(card('Mug')).getByRole('button', { name: 'Like Mug' });

    await user.click(likeMug);
    expect(await within(card('Mug')).findByText('1 like')).toBeInTheDocument();
    expect(within(card('Mug')).getByText('Thanks! Your like was counted.')).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST')[0]).toMatchObject({ credentials: 'same-origin' });

    await user.click(likeMug);
    const message = await within(card('Mug')).findByText('You already liked this product.');
    // The message belongs to that product's button...
    expect(likeMug).toHaveAccessibleDescription('You already liked this product.');
    expect(message).toBeVisible();
    // ...and the count did not change, nor did the other product.
    expect(within(card('Mug')).getByText('1 like')).toBeInTheDocument();
    expect(within(card('Lamp')).queryByText('You already liked this product.')).not.toBeInTheDocument();
  });

  it('explains a failed like and lets the person try again', async () => {
    mockFetch({
      [`GET ${PRODUCTS}`]: { json: [mug] },
      'POST /flask/api/products/1/like': [server500, { json: { message: 'success' } }],
    });
    const { user } = renderGallery();
    await user.click(await screen.findByRole('button', { name: 'Like Mug' }));
    expect(await within(card('Mug')).findByText(/Your like was not saved\. Something went wrong on the server/)).toBeVisible();
    expect(within(card('Mug')).getByText('0 likes')).toBeInTheDocument();
    await user.click(within(card('Mug')).getByRole('button', { name: 'Try again' }));
    expect(await within(card('Mug')).findByText('1 like')).toBeInTheDocument();
  });

  it('explains a network failure on like', async () => {
    mockFetch({ [`GET ${PRODUCTS}`]: { json: [mug] }, 'POST /flask/api/products/1/like': 'network-error' });
    const { user } = renderGallery();
    await user.click(await screen.findByRole('button', { name: 'Like Mug' }));
    expect(await within(card('Mug')).findByText(/Could not reach the server/)).toBeVisible();
    expect(within(card('Mug')).getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });

  it('tells the person when a product was deleted meanwhile and takes it off the list', async () => {
    mockFetch({
      [`GET ${PRODUCTS}`]: { json: [mug, lamp] },
      'POST /flask/api/products/1/like': { status: 404, json: { error: 'Product not found' } },
    });
    const { user } = renderGallery();
    await user.click(await screen.findByRole('button', { name: 'Like Mug' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('“Mug” is no longer available');
    expect(screen.queryByRole('heading', { name: 'Mug' })).not.toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Lamp' })).toBeInTheDocument();
  });

  it('disables the Like button while the like is being sent', async () => {
    const { calls } = mockFetch({ [`GET ${PRODUCTS}`]: { json: [mug] }, 'POST /flask/api/products/1/like': 'pending' });
    const { user } = renderGallery();
    await user.click(await screen.findByRole('button', { name: 'Like Mug' }));
    const button = await screen.findByRole('button', { name: 'Liking Mug' });
    expect(button).toHaveAttribute('aria-disabled', 'true');
    // It keeps keyboard focus, and a second click does not send a second request.
    expect(button).toHaveFocus();
    await user.click(button);
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });

  it('shows a placeholder labelled with the title when an image cannot load', async () => {
    mockFetch({ [`GET ${PRODUCTS}`]: { json: [mug] } });
    renderGallery();
    const img = await screen.findByRole('img', { name: 'Mug' });
    img.dispatchEvent(new Event('error'));
    await waitFor(() => expect(screen.getByRole('img', { name: 'Mug' }).tagName).toBe('DIV'));
    expect(screen.getByText('Image unavailable')).toBeInTheDocument();
  });
});
