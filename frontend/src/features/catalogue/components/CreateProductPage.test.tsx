import { screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { FIRST_PRODUCT_PAGE, productPage } from '@/testing/product-pages';
import { renderRoutes } from '@/testing/render';
import { CreateProductPage } from './CreateProductPage';
import { ProductListPage } from './ProductListPage';

const IMAGE_RULE = 'Enter a valid URL (http:// or https://) or a path starting with /.';

function renderCreate() {
  const utils = renderRoutes(
    [
      { path: '/admin/products', element: <ProductListPage /> },
      { path: '/admin/products/create', element: <CreateProductPage /> },
    ],
    '/admin/products/create',
  );
  const title = screen.getByLabelText('Title');
  const image = screen.getByLabelText('Image URL');
  const submit = screen.getByRole('button', { name: 'Create product' });
  return { ...utils, title, image, submit };
}

/** The field's error: shown next to it, marked invalid, and read out with it. */
function expectFieldError(input: HTMLElement, message: string) {
  expect(input).toHaveClass('is-invalid');
  expect(input).toHaveAttribute('aria-invalid', 'true');
  expect(input).toHaveAccessibleDescription(expect.stringContaining(message) as string);
  const feedback = input.parentElement!.querySelector('.invalid-feedback');
  expect(feedback).toHaveTextContent(message);
}

function expectNoFieldError(input: HTMLElement) {
  expect(input).not.toHaveClass('is-invalid');
  expect(input).not.toHaveAttribute('aria-invalid');
}

describe('CreateProductPage', () => {
  it('has labelled inputs and a page title', () => {
    mockFetch({});
    const { title, image } = renderCreate();
    expect(title).toHaveAttribute('name', 'title');
    expect(image).toHaveAttribute('name', 'image');
    expect(screen.getByRole('heading', { level: 1, name: 'Add a product' })).toBeInTheDocument();
    expect(document.title).toBe('Add product · Little Shop');
  });

  it('refuses a blank title and a blank image without calling the server', async () => {
    const { calls } = mockFetch({});
    const { user, title, image, submit } = renderCreate();
    await user.type(title, '   ');
    await user.click(submit);
    expectFieldError(title, 'This field may not be blank.');
    expectFieldError(image, 'This field may not be blank.');
    expect(title).toHaveFocus();
    expect(calls).toHaveLength(0);
  });

  it('refuses a 201-character title but accepts 200', async () => {
    mockFetch({});
    const { user, title, image, submit } = renderCreate();
    await user.click(title);
    await user.paste('x'.repeat(201));
    await user.type(image, '/img/a.png');
    await user.click(submit);
    expectFieldError(title, 'Ensure this field has no more than 200 characters.');
    expect(screen.getByText('201/200')).toBeInTheDocument();
    await user.type(title, '{Backspace}');
    expectNoFieldError(title);
    expect(screen.getByText('200/200')).toBeInTheDocument();
  });

  it('refuses javascript: and protocol-relative images', async () => {
    const { calls } = mockFetch({});
    const { user, title, image, submit } = renderCreate();
    await user.type(title, 'Mug');
    await user.type(image, 'javascript:alert(1)');
    await user.click(submit);
    expectFieldError(image, IMAGE_RULE);
    expect(image).toHaveFocus();

    await user.clear(image);
    await user.type(image, '//evil.com/x.png');
    expectFieldError(image, IMAGE_RULE);

    await user.clear(image);
    await user.type(image, 'https://example.com/mug.png');
    expectNoFieldError(image);
    expect(calls).toHaveLength(0);
  });

  it('checks a field when the person moves on to the next field', async () => {
    mockFetch({});
    const { user, title, image, submit } = renderCreate();
    await user.type(title, '  ');
    expectNoFieldError(title);
    await user.tab();
    expect(image).toHaveFocus();
    expectFieldError(title, 'This field may not be blank.');
    // Leaving the last field for the submit button shows nothing yet (no layout shift under
    // the pointer); submitting does.
    await user.type(image, 'mug.png');
    await user.tab();
    expect(submit).toHaveFocus();
    expectNoFieldError(image);
    await user.click(submit);
    expectFieldError(image, IMAGE_RULE);
  });

  it('shows the server’s field errors next to the fields and other errors at the top', async () => {
    mockFetch({
      'POST /api/products': {
        status: 400,
        json: {
          title: ['Product with this title already exists.'],
          image: ['This image host is not allowed.'],
          non_field_errors: ['Something about the whole product.'],
        },
      },
    });
    const { user, title, image, submit } = renderCreate();
    await user.type(title, 'Mug');
    await user.type(image, 'https://example.com/mug.png');
    await user.click(submit);
    expectFieldError(await screen.findByLabelText('Title'), 'Product with this title already exists.');
    expectFieldError(image, 'This image host is not allowed.');
    const top = screen.getByRole('alert');
    expect(top).toHaveTextContent('The product was not saved.');
    expect(top).toHaveTextContent('Something about the whole product.');
    expect(top).toHaveFocus();
    // Editing a field clears its server error.
    await user.type(title, 's');
    expectNoFieldError(title);
    expectFieldError(image, 'This image host is not allowed.');
  });

  it('shows an `error` answer (e.g. 413) at the top', async () => {
    mockFetch({ 'POST /api/products': { status: 413, json: { error: 'Request body is larger than 64 KiB' } } });
    const { user, title, image, submit } = renderCreate();
    await user.type(title, 'Mug');
    await user.type(image, '/m.png');
    await user.click(submit);
    expect(await screen.findByRole('alert')).toHaveTextContent('Request body is larger than 64 KiB');
    expect(submit).toBeEnabled();
  });

  it('explains a service outage and keeps what was typed', async () => {
    mockFetch({ 'POST /api/products': nginx503 });
    const { user, title, image, submit } = renderCreate();
    await user.type(title, 'Mug');
    await user.type(image, '/m.png');
    await user.click(submit);
    expect(await screen.findByRole('alert')).toHaveTextContent(/temporarily unavailable/);
    expect(title).toHaveValue('Mug');
  });

  it('explains a server fault (500) in words the person can act on', async () => {
    mockFetch({ 'POST /api/products': server500 });
    const { user, title, image, submit } = renderCreate();
    await user.type(title, 'Mug');
    await user.type(image, '/m.png');
    await user.click(submit);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Something went wrong on the server. Please try again.');
    expect(alert).not.toHaveTextContent('Internal server error');
  });

  it('disables the submit button while saving', async () => {
    mockFetch({ 'POST /api/products': 'pending' });
    const { user, title, image, submit } = renderCreate();
    await user.type(title, 'Mug');
    await user.type(image, '/m.png');
    await user.click(submit);
    expect(submit).toBeDisabled();
    expect(submit).toHaveTextContent('Creating…');
  });

  it('sends trimmed values, then goes back to the list, which shows the new product', async () => {
    const created = { id: 7, title: 'Mug', image: 'https://example.com/mug.png', likes: 0 };
    const { calls } = mockFetch({
      'POST /api/products': { status: 201, json: created },
      [FIRST_PRODUCT_PAGE]: productPage([created]),
    });
    const { user, title, image, submit, router } = renderCreate();
    await user.type(title, '  Mug  ');
    await user.type(image, ' https://example.com/mug.png ');
    await user.click(submit);
    await waitFor(() => expect(router.state.location.pathname).toBe('/admin/products'));
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/products', body: { title: 'Mug', image: 'https://example.com/mug.png' } });
    expect(await screen.findByText('Added “Mug”.')).toBeInTheDocument();
    // The message is not kept in history (a reload would show it again).
    await waitFor(() => expect(router.state.location.state).toBeNull());
    expect(screen.getByText('Added “Mug”.')).toBeInTheDocument();
    const table = await screen.findByRole('table');
    expect(within(table).getByRole('rowheader', { name: /^Mug/ })).toBeInTheDocument();
  });

  it('keeps what was typed and sends the admin to sign in when the session has ended (401)', async () => {
    mockFetch({ 'POST /api/products': { status: 401, json: { error: 'Sign in required' } } });
    const { user, title, image, submit, router } = renderCreate();
    await user.type(title, ' Mug');
    await user.type(image, '/m.png');
    await user.click(submit);
    await waitFor(() => expect(router.state.location.pathname).toBe('/login'));
    expect(router.state.location.search).toBe('?next=%2Fadmin%2Fproducts%2Fcreate');
    expect(router.state.location.state).toEqual({ loginReason: 'session-ended' });
    // Kept as typed (not trimmed), for this page.
    expect(JSON.parse(window.sessionStorage.getItem('shop:draft:/admin/products/create') ?? 'null')).toEqual({
      title: ' Mug',
      image: '/m.png',
    });
  });

  it('puts a kept draft back in the form once, saying why', async () => {
    window.sessionStorage.setItem('shop:draft:/admin/products/create', JSON.stringify({ title: 'Lamp', image: '/l.png' }));
    mockFetch({});
    const { title, image, user } = renderCreate();
    expect(title).toHaveValue('Lamp');
    expect(image).toHaveValue('/l.png');
    const notice = screen.getByRole('status');
    expect(notice).toHaveTextContent('Your session ended before this was saved. What you typed is back: check it and save again.');
    expect(window.sessionStorage.getItem('shop:draft:/admin/products/create')).toBeNull();
    await user.click(within(notice).getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it('ignores a kept draft of the wrong shape', () => {
    window.sessionStorage.setItem('shop:draft:/admin/products/create', JSON.stringify({ title: 5 }));
    mockFetch({});
    const { title } = renderCreate();
    expect(title).toHaveValue('');
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });
});
