import { type FormEvent, useId, useRef, useState } from 'react';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { TextField } from '@/components/ui/TextField';
import { useFocusRequest } from '@/hooks/use-focus-request';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { isSignInRequired } from '@/lib/session';
import { createToken, type NewToken } from '../api/tokens';

type Field = 'name' | 'expires_in_days';
type Errors = Partial<Record<Field, string>>;

export const MAX_DAYS = 3650;

function validate(name: string, days: string): Errors {
  const errors: Errors = {};
  if (name.trim() === '') errors.name = 'Enter a name, e.g. what the token is for.';
  const d = days.trim();
  if (d !== '' && (!/^\d+$/.test(d) || Number(d) < 1 || Number(d) > MAX_DAYS)) {
    errors.expires_in_days = `Enter a whole number of days from 1 to ${MAX_DAYS.toLocaleString('en-US')}, or leave it empty.`;
  }
  return errors;
}

/** Makes a token: a name and, optionally, how many days it lives. */
export function CreateTokenForm({ onCreated }: { onCreated: (token: NewToken) => void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [errors, setErrors] = useState<Errors>({});
  const [top, setTop] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const sessionEnded = useSessionEnded();
  const nameRef = useRef<HTMLInputElement>(null);
  const daysRef = useRef<HTMLInputElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  const requestFocus = useFocusRequest<Field | 'top'>(
    (target) => ({ name: nameRef, expires_in_days: daysRef, top: topRef })[target].current,
  );

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (saving) return;
    setTop(null);
    const invalid = validate(name, days);
    setErrors(invalid);
    const first = (['name', 'expires_in_days'] as const).find((f) => invalid[f]);
    if (first) return requestFocus(first);
    setSaving(true);
    try {
      const token = await createToken({ name: name.trim(), ...(days.trim() === '' ? {} : { expires_in_days: Number(days) }) });
      setName('');
      setDays('');
      setSaving(false);
      onCreated(token);
    } catch (error) {
      if (isSignInRequired(error)) return sessionEnded();
      const e = toApiError(error);
      const fields: Errors = {};
      for (const field of ['name', 'expires_in_days'] as const) {
        if (e.fieldErrors[field]) fields[field] = e.fieldErrors[field].join(' ');
      }
      setErrors(fields);
      const firstField = (['name', 'expires_in_days'] as const).find((f) => fields[f]);
      setTop(firstField ? null : describeError(e));
      setSaving(false);
      requestFocus(firstField ?? 'top');
    }
  }

  return (
    <form noValidate onSubmit={(e) => void handleSubmit(e)} aria-labelledby={`${id}-title`} className="card shadow-sm">
      <div className="card-body">
        <h2 id={`${id}-title`} className="h5">
          Create a token
        </h2>
        {top ? (
          <div ref={topRef} tabIndex={-1} className="alert alert-danger" role="alert">
            <p className="fw-semibold mb-1">The token was not created.</p>
            <p className="mb-0">{top}</p>
          </div>
        ) : null}
        <div className="row g-3 align-items-start">
          <TextField
            ref={nameRef}
            id={`${id}-name`}
            className="col-12 col-md-6"
            label="Token name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={errors.name}
            help="What it is for, e.g. ci-smoke-test."
          />
          <TextField
            ref={daysRef}
            id={`${id}-days`}
            className="col-12 col-md-6"
            label="Expires in (days)"
            inputMode="numeric"
            value={days}
            onChange={(e) => setDays(e.target.value)}
            error={errors.expires_in_days}
            help="Optional: empty means it never expires."
          />
        </div>
        <button type="submit" className="btn btn-primary mt-3" disabled={saving}>
          {saving ? (
            <>
              <ButtonSpinner />
              Creating…
            </>
          ) : (
            'Create token'
          )}
        </button>
      </div>
    </form>
  );
}
