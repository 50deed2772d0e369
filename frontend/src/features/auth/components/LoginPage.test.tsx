import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { mockFetch, nginx503, server500 } from '@/testing/mock-fetch';
import { renderRoutes } from '@/testing/render';
import { LoginPage } from './LoginPage';

const ada = { id: 3, name: 'Ada Lovelace', email: 'ada@example.com' };

function renderLogin(path = '/login?next=%2Fadmin%2Fproducts%2F5%2Fedit', state?: unknown) {
  const utils = renderRoutes([{ path: '/login', element: <LoginPage /> }], path, state);
  const email = screen.getByLabelText('Email');
  const password = screen.getByLabelText('Password');
  const submit = screen.getByRole('button', { name: 'Sign in' });
  return { ...utils, email, password, submit };
}

async function fillAndSubmit(utils: ReturnType<typeof renderLogin>, email = 'ada@example.com', password = 'correct horse') {
  await utils.user.type(utils.email, email);
  await utils.user.type(utils.password, password);
  await utils.user.click(utils.submit);
}

describe('LoginPage', () => {
  it('has labelled email and password fields that password managers recognise, and a title', () => {
    mockFetch({});
    const { email, password } = renderLogin();
    expect(screen.getByRole('heading', { level: 1, name: 'Sign in' })).toBeInTheDocument();
    expect(document.title).toBe('Sign in · Little Shop');
    expect(email).toHaveAttribute('type', 'email');
    expect(email).toHaveAttribute('autocomplete', 'username');
    expect(password).toHaveAttribute('type', 'password');
    expect(password).toHaveAttribute('autocomplete', 'current-password');
  });

  it('signs in with the trimmed email and goes back to the page that was asked for', async () => {
    const { calls } = mockFetch({ 'POST /api/auth/login': { json: ada } });
    const utils = renderLogin();
    await fillAndSubmit(utils, '  ada@example.com ');
    await waitFor(() => expect(utils.router.state.location.pathname).toBe('/admin/products/5/edit'));
    expect(calls).toEqual([
      { method: 'POST', url: '/api/auth/login', body: { email: 'ada@example.com', password: 'correct horse' }, credentials: 'same-origin' },
    ]);
    // The sign-in page is replaced in history: Back does not return to it.
    expect(utils.router.state.historyAction).toBe('REPLACE');
  });

  it('goes to the product list without next, and never to another site', async () => {
    for (const path of ['/login', '/login?next=%2F%2Fevil.example%2Fx', '/login?next=https%3A%2F%2Fevil.example', '/login?next=%2F%5Cevil.example']) {
      mockFetch({ 'POST /api/auth/login': { json: ada } });
      const utils = renderLogin(path);
      await fillAndSubmit(utils);
      await waitFor(() => expect(utils.router.state.location.pathname, path).toBe('/admin/products'));
      utils.unmount();
    }
  });

  it('refuses blank fields without asking the server, focusing the first', async () => {
    const { calls } = mockFetch({});
    const { user, email, password, submit } = renderLogin();
    await user.click(submit);
    expect(email).toHaveAttribute('aria-invalid', 'true');
    expect(email).toHaveAccessibleDescription('This field may not be blank.');
    expect(password).toHaveAttribute('aria-invalid', 'true');
    expect(email).toHaveFocus();
    await user.type(email, 'ada@example.com');
    expect(email).not.toHaveAttribute('aria-invalid');
    await user.click(submit);
    expect(password).toHaveFocus();
    expect(calls).toHaveLength(0);
  });

  it('shows the server’s field errors next to the fields', async () => {
    mockFetch({ 'POST /api/auth/login': { status: 400, json: { email: ['Not a valid string.'] } } });
    const utils = renderLogin();
    await fillAndSubmit(utils);
    await waitFor(() => expect(utils.email).toHaveAccessibleDescription('Not a valid string.'));
    expect(utils.email).toHaveFocus();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('says a wrong email or password clearly, clears the password and focuses it', async () => {
    mockFetch({ 'POST /api/auth/login': { status: 401, json: { error: 'Invalid email or password' } } });
    const utils = renderLogin();
    await fillAndSubmit(utils, 'ada@example.com', 'wrong');
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid email or password');
    expect(utils.password).toHaveValue('');
    expect(utils.password).toHaveFocus();
    expect(utils.email).toHaveValue('ada@example.com');
    expect(utils.router.state.location.pathname).toBe('/login');
    expect(utils.submit).toBeEnabled();
  });

  it('shows how long to wait after too many failures (429)', async () => {
    mockFetch({ 'POST /api/auth/login': { status: 429, json: { error: 'Too many failed sign-ins; try again in 8 s' } } });
    const utils = renderLogin();
    await fillAndSubmit(utils);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Too many failed sign-ins; try again in 8 s');
    expect(alert).toHaveFocus();
    expect(utils.password).toHaveValue('correct horse');
  });

  it('says sign-in is unavailable (503 from admin-svc when no database connection came, or nginx when it is down)', async () => {
    mockFetch({
      'POST /api/auth/login': [
        { status: 503, json: { error: 'The service is busy; try again in a moment' } },
        nginx503,
        server500,
        'network-error',
      ],
    });
    const utils = renderLogin();
    await fillAndSubmit(utils);
    expect(await screen.findByRole('alert')).toHaveTextContent('The service is busy; try again in a moment');
    for (const expected of [
      'The service is temporarily unavailable. Please try again in a moment.',
      'Something went wrong on the server. Please try again.',
      'Could not reach the server. Check your connection and try again.',
    ]) {
      await utils.user.click(utils.submit);
      await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent(expected));
    }
    expect(utils.router.state.location.pathname).toBe('/login');
  });

  it('shows that it is signing in and cannot be submitted twice', async () => {
    const { calls } = mockFetch({ 'POST /api/auth/login': 'pending' });
    const utils = renderLogin();
    await fillAndSubmit(utils);
    const busy = screen.getByRole('button', { name: 'Signing in…' });
    expect(busy).toBeDisabled();
    expect(busy.closest('form')).toHaveAttribute('aria-busy', 'true');
    await utils.user.type(utils.password, '{Enter}');
    expect(calls).toHaveLength(1);
  });

  it('works with the keyboard alone', async () => {
    mockFetch({ 'POST /api/auth/login': { json: ada } });
    const utils = renderLogin();
    await utils.user.tab();
    expect(utils.email).toHaveFocus();
    await utils.user.keyboard('ada@example.com');
    await utils.user.tab();
    expect(utils.password).toHaveFocus();
    await utils.user.keyboard('correct horse{Enter}');
    await waitFor(() => expect(utils.router.state.location.pathname).toBe('/admin/products/5/edit'));
  });

  it('says why it is shown after a session ended or a sign-out, once', async () => {
    mockFetch({});
    const ended = renderLogin('/login?next=%2Fadmin%2Fproducts', { loginReason: 'session-ended' });
    expect(screen.getByRole('status')).toHaveTextContent('Your session has ended. Sign in again to go on where you left off.');
    // Forgotten in history (a reload would not say it again), still shown, next kept.
    await waitFor(() => expect(ended.router.state.location.state).toBeNull());
    expect(ended.router.state.location.search).toBe('?next=%2Fadmin%2Fproducts');
    expect(screen.getByRole('status')).toBeInTheDocument();
    ended.unmount();

    renderLogin('/login', { loginReason: 'signed-out' });
    expect(screen.getByRole('status')).toHaveTextContent('You have signed out.');
  });
});
