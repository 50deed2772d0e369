import { type FormEvent, useId, useRef, useState } from 'react';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { TextField } from '@/components/ui/TextField';
import { useFocusRequest } from '@/hooks/use-focus-request';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { ROLE_LABELS, ROLES, type Role } from '@/lib/roles';
import { isSignInRequired } from '@/lib/session';
import { type Account, createAccount, type SignInLink } from '../api/accounts';

type Field = 'name' | 'email' | 'role';
type Errors = Partial<Record<Field, string>>;

function validate(name: string, email: string): Errors {
  const errors: Errors = {};
  if (name.trim() === '') errors.name = 'Enter the person’s name.';
  if (email.trim() === '') errors.email = 'Enter their email address.';
  else if (!/^[^@\s]+@[^@\s]+$/.test(email.trim())) errors.email = 'Enter an email address like name@example.com.';
  return errors;
}

interface AddAdminFormProps {
  onCreated: (account: Account, link: SignInLink) => void;
}

/**
 * "Add admin": name, email and role; the API's field errors (e.g. an email already taken)
 * next to their fields, anything else above the form. The new account's one-time link is
 * the page's to show.
 */
export function AddAdminForm({ onCreated }: AddAdminFormProps) {
  const id = useId();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('admin');
  const [errors, setErrors] = useState<Errors>({});
  const [top, setTop] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const sessionEnded = useSessionEnded();
  const nameRef = useRef<HTMLInputElement>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const roleRef = useRef<HTMLSelectElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  const requestFocus = useFocusRequest<Field | 'top'>(
    (target) => ({ name: nameRef, email: emailRef, role: roleRef, top: topRef })[target].current,
  );

  async function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (saving) return;
    setTop(null);
    const invalid = validate(name, email);
    setErrors(invalid);
    const first = (['name', 'email'] as const).find((f) => invalid[f]);
    if (first) return requestFocus(first);
    setSaving(true);
    try {
      const created = await createAccount({ name: name.trim(), email: email.trim(), role });
      setName('');
      setEmail('');
      setRole('admin');
      setSaving(false);
      onCreated(created.admin, { link: created.link, expires_at: created.expires_at });
    } catch (error) {
      if (isSignInRequired(error)) return sessionEnded();
      const e = toApiError(error);
      const fields: Errors = {};
      for (const field of ['name', 'email', 'role'] as const) {
        const messages = e.fieldErrors[field];
        if (messages) fields[field] = messages.join(' ');
      }
      setErrors(fields);
      const hasFields = Object.keys(fields).length > 0;
      setTop(hasFields ? null : describeError(e));
      setSaving(false);
      requestFocus(hasFields ? ((['name', 'email', 'role'] as const).find((f) => fields[f]) ?? 'top') : 'top');
    }
  }

  return (
    <form noValidate onSubmit={(e) => void handleSubmit(e)} aria-labelledby={`${id}-title`} className="card shadow-sm">
      <div className="card-body">
        <h2 id={`${id}-title`} className="h5">
          Add an account
        </h2>
        <p className="text-body-secondary small">They get a one-time link to set their own password; you never know it.</p>
        {top ? (
          <div ref={topRef} tabIndex={-1} className="alert alert-danger" role="alert">
            <p className="fw-semibold mb-1">The account was not added.</p>
            <p className="mb-0">{top}</p>
          </div>
        ) : null}
        <div className="row g-3 align-items-start">
          <TextField
            ref={nameRef}
            id={`${id}-name`}
            className="col-12 col-md-4"
            label="Name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={errors.name}
            autoComplete="off"
          />
          <TextField
            ref={emailRef}
            id={`${id}-email`}
            className="col-12 col-md-4"
            label="Email"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={errors.email}
            autoComplete="off"
            spellCheck={false}
          />
          <div className="col-12 col-md-4">
            <label htmlFor={`${id}-role`} className="form-label fw-semibold">
              Role
            </label>
            <select
              ref={roleRef}
              id={`${id}-role`}
              className={`form-select${errors.role ? ' is-invalid' : ''}`}
              value={role}
              onChange={(e) => setRole(e.target.value as Role)}
              aria-invalid={errors.role ? true : undefined}
              aria-describedby={errors.role ? `${id}-role-error` : `${id}-role-help`}
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
            {errors.role ? (
              <div id={`${id}-role-error`} className="invalid-feedback">
                {errors.role}
              </div>
            ) : (
              <div id={`${id}-role-help`} className="form-text">
                A viewer reads the catalogue and its history, and changes nothing.
              </div>
            )}
          </div>
        </div>
        <button type="submit" className="btn btn-primary mt-3" disabled={saving}>
          {saving ? (
            <>
              <ButtonSpinner />
              Adding…
            </>
          ) : (
            'Add admin'
          )}
        </button>
      </div>
    </form>
  );
}
