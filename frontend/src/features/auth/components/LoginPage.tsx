import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { TextField } from '@/components/ui/TextField';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useFocusRequest } from '@/hooks/use-focus-request';
import { isApiError } from '@/lib/api-client';
import { DEFAULT_AFTER_LOGIN, safeNextPath } from '@/lib/paths';
import { type LoginReason, readLoginReason } from '@/lib/session';
import { signIn } from '../api/session';
import { type LoginErrors, type LoginField, mapLoginError, validateLogin } from '../login-errors';

const NOTICES: Record<LoginReason, { variant: string; text: string }> = {
  'session-ended': {
    variant: 'warning',
    text: 'Your session has ended. Sign in again to go on where you left off.',
  },
  'signed-out': { variant: 'success', text: 'You have signed out.' },
};

/**
 * `paths.login`: the admins' sign-in. Afterwards it goes to `?next=` when that is a path of
 * this site (see `safeNextPath`: never another site), else to the product list.
 */
export function LoginPage() {
  useDocumentTitle('Sign in');
  const id = useId();
  const navigate = useNavigate();
  const location = useLocation();
  const [params] = useSearchParams();
  const next = safeNextPath(params.get('next')) ?? DEFAULT_AFTER_LOGIN;
  // Why we are here (session ended, signed out), from the page that sent us.
  const [reason] = useState<LoginReason | null>(() => readLoginReason(location.state));
  // Forget it in the history entry, so a reload does not say it again.
  useEffect(() => {
    if (readLoginReason(location.state)) {
      void navigate(`${location.pathname}${location.search}`, { replace: true, state: null });
    }
  }, [location.pathname, location.search, location.state, navigate]);

  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<LoginErrors>({ fields: {}, top: null });
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  // After a failed attempt, where focus goes once the messages are rendered.
  const requestFocus = useFocusRequest<LoginField | 'top'>(
    (target) => ({ email: emailRef, password: passwordRef, top: topRef })[target].current,
  );

  function firstField(fields: LoginErrors['fields']): LoginField | null {
    if (fields.email) return 'email';
    if (fields.password) return 'password';
    return null;
  }

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (busy) return;
    const fields = validateLogin(email, password);
    const invalid = firstField(fields);
    if (invalid) {
      setErrors({ fields, top: null });
      requestFocus(invalid);
      return;
    }
    setErrors({ fields: {}, top: null });
    setBusy(true);
    try {
      await signIn({ email: email.trim(), password });
    } catch (error) {
      const mapped = mapLoginError(error);
      setErrors(mapped);
      setBusy(false);
      const field = firstField(mapped.fields);
      if (field) {
        requestFocus(field);
      } else if (isApiError(error) && error.status === 401) {
        // A wrong email or password: type the password again (the alert is read out).
        setPassword('');
        requestFocus('password');
      } else {
        requestFocus('top');
      }
      return;
    }
    await navigate(next, { replace: true });
  }

  function change(field: LoginField, value: string) {
    (field === 'email' ? setEmail : setPassword)(value);
    if (errors.fields[field]) setErrors((e) => ({ ...e, fields: { ...e.fields, [field]: undefined } }));
  }

  const notice = reason ? NOTICES[reason] : null;

  return (
    <div className="row justify-content-center">
      <div className="col-12 col-sm-10 col-md-7 col-lg-5 col-xl-4">
        <h1 className="h2 mb-1">Sign in</h1>
        <p className="text-body-secondary mb-4">For shop staff: sign in to manage the catalogue.</p>

        {notice ? (
          <div className={`alert alert-${notice.variant}`} role="status">
            {notice.text}
          </div>
        ) : null}

        {errors.top !== null ? (
          <div ref={topRef} tabIndex={-1} className="alert alert-danger" role="alert">
            {errors.top}
          </div>
        ) : null}

        <form className="card card-body shadow-sm" noValidate onSubmit={(e) => void handleSubmit(e)} aria-busy={busy}>
          <TextField
            ref={emailRef}
            id={`${id}-email`}
            name="email"
            type="email"
            label="Email"
            autoComplete="username"
            inputMode="email"
            autoCapitalize="off"
            spellCheck={false}
            required
            className="mb-3"
            value={email}
            onChange={(e) => change('email', e.target.value)}
            error={errors.fields.email}
          />
          <TextField
            ref={passwordRef}
            id={`${id}-password`}
            name="password"
            type="password"
            label="Password"
            autoComplete="current-password"
            required
            className="mb-4"
            value={password}
            onChange={(e) => change('password', e.target.value)}
            error={errors.fields.password}
          />
          <button type="submit" className="btn btn-primary w-100" disabled={busy}>
            {busy ? (
              <>
                <ButtonSpinner />
                Signing in…
              </>
            ) : (
              'Sign in'
            )}
          </button>
        </form>
      </div>
    </div>
  );
}
