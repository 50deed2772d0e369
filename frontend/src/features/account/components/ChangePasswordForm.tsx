import { type FormEvent, useId, useRef, useState } from 'react';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { TextField } from '@/components/ui/TextField';
import { useFocusRequest } from '@/hooks/use-focus-request';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { isSignInRequired } from '@/lib/session';
import { changePassword } from '../api/own-account';
import { validateNewPassword } from '../password-rules';
import { NewPasswordFields } from './NewPasswordFields';

type Target = 'current' | 'password' | 'repeat' | 'top';
interface Errors {
  current?: string | undefined;
  password?: string | undefined;
  repeat?: string | undefined;
}

/**
 * Changes one's own password: the current one, the new one twice (the server's rules
 * checked first); the API's field errors next to their fields. The other sessions end.
 */
export function ChangePasswordForm({ email, onChanged }: { email: string; onChanged: () => void }) {
  const id = useId();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [top, setTop] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [saving, setSaving] = useState(false);
  const sessionEnded = useSessionEnded();
  const currentRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const repeatRef = useRef<HTMLInputElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  const requestFocus = useFocusRequest<Target>(
    (target) => ({ current: currentRef, password: passwordRef, repeat: repeatRef, top: topRef })[target].current,
  );

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (saving) return;
    setTop(null);
    setDone(false);
    const invalid: Errors = { ...validateNewPassword(password, repeat) };
    if (current === '') invalid.current = 'Enter your current password.';
    setErrors(invalid);
    const first = (['current', 'password', 'repeat'] as const).find((f) => invalid[f]);
    if (first) return requestFocus(first);
    setSaving(true);
    try {
      await changePassword(current, password);
    } catch (error) {
      if (isSignInRequired(error)) return sessionEnded();
      const e = toApiError(error);
      const fields: Errors = {
        current: e.fieldErrors.current_password?.join(' '),
        password: e.fieldErrors.new_password?.join(' '),
      };
      setErrors(fields);
      const field = fields.current ? 'current' : fields.password ? 'password' : null;
      if (field === 'current') setCurrent('');
      setTop(field ? null : describeError(e));
      setSaving(false);
      requestFocus(field ?? 'top');
      return;
    }
    setCurrent('');
    setPassword('');
    setRepeat('');
    setErrors({});
    setSaving(false);
    setDone(true);
    onChanged();
  }

  return (
    <form noValidate onSubmit={(e) => void handleSubmit(e)} aria-labelledby={`${id}-title`} className="card shadow-sm">
      <div className="card-body">
        <h2 id={`${id}-title`} className="h5">
          Change your password
        </h2>
        {done ? (
          <p className="alert alert-success" role="status">
            Your password was changed. Your other sessions were signed out.
          </p>
        ) : null}
        {top ? (
          <div ref={topRef} tabIndex={-1} className="alert alert-danger" role="alert">
            <p className="fw-semibold mb-1">Your password was not changed.</p>
            <p className="mb-0">{top}</p>
          </div>
        ) : null}
        {/* For password managers: whose password this is. */}
        <input type="text" name="username" autoComplete="username" value={email} className="d-none" readOnly tabIndex={-1} aria-hidden="true" />
        <TextField
          ref={currentRef}
          id={`${id}-current`}
          className="mb-3"
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          error={errors.current}
        />
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
        <button type="submit" className="btn btn-primary" disabled={saving}>
          {saving ? (
            <>
              <ButtonSpinner />
              Changing…
            </>
          ) : (
            'Change password'
          )}
        </button>
      </div>
    </form>
  );
}
