import { type FormEvent, useCallback, useId, useRef, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { ErrorAlert } from '@/components/ui/ErrorAlert';
import { LoadingState } from '@/components/ui/LoadingState';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useFocusRequest } from '@/hooks/use-focus-request';
import { useResource } from '@/hooks/use-resource';
import { describeError, toApiError } from '@/lib/api-client';
import { paths } from '@/lib/paths';
import { formatDateTime, parseTime } from '@/lib/time';
import { inspectLink, isDeadLink, type LinkAccount, redeemLink } from '../api/account-links';
import { type NewPasswordErrors, validateNewPassword } from '../password-rules';
import { NewPasswordFields } from './NewPasswordFields';

/** The token of `/set-password#<token>` (in the fragment, so no server log keeps it). */
function tokenFromHash(hash: string): string {
  return decodeURIComponent(hash.replace(/^#/, '')).trim();
}

/**
 * `paths.setPassword` (public): a one-time link's page. Says whose account it is, takes a
 * new password twice, and signs its owner in (then the product list). A used, expired or
 * unknown link, or a link cut short, gets a page that says so, with the way to sign in.
 */
export function SetPasswordPage() {
  const { hash } = useLocation();
  const token = tokenFromHash(hash);
  if (token === '') {
    return (
      <DeadLink
        title="This link is incomplete"
        message="The address has no sign-in token after “#”. Open the whole link from your message, or ask an admin for a new one."
      />
    );
  }
  return <SetPasswordForToken key={token} token={token} />;
}

function SetPasswordForToken({ token }: { token: string }) {
  const { state, reload } = useResource(useCallback((signal: AbortSignal) => inspectLink(token, signal), [token]));
  const [gone, setGone] = useState<string | null>(null);

  if (gone !== null) return <DeadLink title="This link no longer works" message={gone} />;
  if (state.status === 'loading') return <LoadingState label="Checking your link…" />;
  if (state.status === 'error') {
    if (state.error.kind === 'http' && isDeadLink(state.error.status)) {
      return (
        <DeadLink
          title={state.error.status === 404 ? 'Unknown link' : 'This link no longer works'}
          message={state.error.serverMessage ?? describeError(state.error)}
        />
      );
    }
    return (
      <ErrorAlert title="We couldn’t check your link." onRetry={reload}>
        {describeError(state.error)}
      </ErrorAlert>
    );
  }
  return <SetPasswordForm token={token} account={state.data} onGone={setGone} />;
}

function SetPasswordForm({ token, account, onGone }: { token: string; account: LinkAccount; onGone: (message: string) => void }) {
  useDocumentTitle('Set your password');
  const id = useId();
  const navigate = useNavigate();
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<NewPasswordErrors>({});
  const [top, setTop] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  const repeatRef = useRef<HTMLInputElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  const requestFocus = useFocusRequest<'password' | 'repeat' | 'top'>(
    (target) => ({ password: passwordRef, repeat: repeatRef, top: topRef })[target].current,
  );
  const expires = parseTime(account.expires_at);

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (saving) return;
    setTop(null);
    const invalid = validateNewPassword(password, repeat);
    setErrors(invalid);
    if (invalid.password || invalid.repeat) return requestFocus(invalid.password ? 'password' : 'repeat');
    setSaving(true);
    try {
      await redeemLink(token, password);
    } catch (error) {
      const e = toApiError(error);
      if (e.kind === 'http' && isDeadLink(e.status)) return onGone(e.serverMessage ?? describeError(e));
      const message = e.fieldErrors.password?.join(' ');
      setErrors(message ? { password: message } : {});
      setTop(message ? null : describeError(e));
      setSaving(false);
      requestFocus(message ? 'password' : 'top');
      return;
    }
    // Signed in: the link's owner is an admin-area user now.
    await navigate(paths.products, { replace: true });
  }

  return (
    <div className="mx-auto set-password">
      <h1 className="h3 mb-1 text-break">
        Set a password for {account.name} ({account.email})
      </h1>
      <p className="text-body-secondary">
        This link works once
        {expires ? (
          <>
            , until <time dateTime={expires.toISOString()}>{formatDateTime(expires)}</time>
          </>
        ) : null}
        . Setting a password signs you in.
      </p>
      <form noValidate onSubmit={(e) => void handleSubmit(e)} className="card shadow-sm" aria-label="Set your password">
        <div className="card-body">
          {top ? (
            <div ref={topRef} tabIndex={-1} className="alert alert-danger" role="alert">
              <p className="fw-semibold mb-1">Your password was not set.</p>
              <p className="mb-0">{top}</p>
            </div>
          ) : null}
          <input type="text" name="username" autoComplete="username" value={account.email} className="d-none" readOnly tabIndex={-1} aria-hidden="true" />
          <NewPasswordFields
            idPrefix={id}
            password={password}
            repeat={repeat}
            onPassword={setPassword}
            onRepeat={setRepeat}
            errors={errors}
            passwordRef={passwordRef}
            repeatRef={repeatRef}
          />
          <button type="submit" className="btn btn-primary w-100" disabled={saving}>
            {saving ? (
              <>
                <ButtonSpinner />
                Setting your password…
              </>
            ) : (
              'Set password and sign in'
            )}
          </button>
        </div>
      </form>
    </div>
  );
}

/** A link that cannot be used: why (the API's own message), and the way to sign in. */
function DeadLink({ title, message }: { title: string; message: string }) {
  useDocumentTitle(title);
  return (
    <section className="text-center py-5 px-3" aria-labelledby="dead-link-title">
      <h1 id="dead-link-title" className="h2">
        {title}
      </h1>
      <p className="text-body-secondary mx-auto mb-4 not-found-text">{message}</p>
      <Link className="btn btn-primary" to={paths.login}>
        Sign in
      </Link>
    </section>
  );
}
