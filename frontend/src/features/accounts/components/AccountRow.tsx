import { useId, useState } from 'react';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { Time } from '@/components/ui/Time';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { isApiError } from '@/lib/api-client';
import { ROLE_LABELS, ROLES, type Role } from '@/lib/roles';
import { isSignInRequired } from '@/lib/session';
import { changeError } from '../account-errors';
import { type Account, createSignInLink, type SignInLink, updateAccount } from '../api/accounts';

type Control = 'role' | 'disabled' | 'link';

interface AccountRowProps {
  account: Account;
  /** The signed-in admin's own account. */
  isSelf: boolean;
  onUpdated: (account: Account, message: string) => void;
  onLink: (account: Account, link: SignInLink) => void;
}

/**
 * One account: name and email, role (a select that saves at once), whether it is enabled
 * and has a password, its last sign-in, Disable/Enable (confirmed) and New sign-in link.
 * A refusal (the last enabled admin) shows under the control that asked.
 */
export function AccountRow({ account, isSelf, onUpdated, onLink }: AccountRowProps) {
  const id = useId();
  const [busy, setBusy] = useState<Control | null>(null);
  const [error, setError] = useState<{ control: Control; message: string } | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();
  const errorId = (control: Control) => `${id}-${control}-error`;
  const errorFor = (control: Control) => (error?.control === control ? error.message : null);

  async function change(control: Control, work: () => Promise<void>): Promise<boolean> {
    setBusy(control);
    setError(null);
    try {
      await work();
      setBusy(null);
      return true;
    } catch (e) {
      if (isSignInRequired(e)) {
        sessionEnded();
        return false;
      }
      setBusy(null);
      // A change the API refused (400) belongs next to its control; an outage stays in the dialog.
      if (control === 'disabled' && !(isApiError(e) && e.status >= 400 && e.status < 500)) {
        setDialogError(changeError(e, control));
        return false;
      }
      setConfirming(false);
      setDialogError(null);
      setError({ control, message: changeError(e, control) });
      return false;
    }
  }

  function changeRole(role: Role) {
    void change('role', async () => {
      const updated = await updateAccount(account.id, { role });
      onUpdated(updated, `${updated.name} is now ${updated.role === 'admin' ? 'an admin' : 'a viewer'}.`);
    });
  }

  async function toggleDisabled() {
    const disabled = !account.disabled;
    const done = await change('disabled', async () => {
      const updated = await updateAccount(account.id, { disabled });
      onUpdated(updated, `${updated.name} is ${updated.disabled ? 'disabled: signed out everywhere, tokens revoked' : 'enabled again'}.`);
    });
    if (done) setConfirming(false);
  }

  function newLink() {
    void change('link', async () => onLink(account, await createSignInLink(account.id)));
  }

  const action = account.disabled ? 'Enable' : 'Disable';
  return (
    <tr className={account.disabled ? 'text-body-secondary' : undefined}>
      <th scope="row" className="text-break">
        {account.name}
        {isSelf ? <span className="badge text-bg-light border ms-2">You</span> : null}
        <span className="d-block small fw-normal text-body-secondary">{account.email}</span>
      </th>
      <td>
        <select
          className={`form-select form-select-sm w-auto${errorFor('role') ? ' is-invalid' : ''}`}
          aria-label={`Role of ${account.name}`}
          value={account.role}
          disabled={busy === 'role'}
          aria-invalid={errorFor('role') ? true : undefined}
          aria-describedby={errorFor('role') ? errorId('role') : undefined}
          onChange={(e) => changeRole(e.target.value as Role)}
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABELS[r]}
            </option>
          ))}
        </select>
        {errorFor('role') ? (
          <div id={errorId('role')} className="small text-danger mt-1" role="alert">
            {errorFor('role')}
          </div>
        ) : null}
      </td>
      <td>
        <span className="d-block">{account.disabled ? 'Disabled' : 'Enabled'}</span>
        <span className="d-block small text-body-secondary">{account.password_set ? 'Password set' : 'No password yet'}</span>
      </td>
      <td className="small">
        <Time value={account.last_sign_in_at} fallback="Never" />
      </td>
      <td>
        <div className="d-flex flex-column flex-lg-row gap-2 align-items-start">
          <button
            type="button"
            className={`btn btn-sm ${account.disabled ? 'btn-outline-success' : 'btn-outline-danger'}`}
            aria-label={`${action} ${account.name}`}
            aria-describedby={errorFor('disabled') ? errorId('disabled') : undefined}
            onClick={() => {
              setDialogError(null);
              setConfirming(true);
            }}
          >
            {action}
          </button>
          <button
            type="button"
            className="btn btn-sm btn-outline-secondary text-nowrap"
            aria-label={`New sign-in link for ${account.name}`}
            aria-describedby={errorFor('link') ? errorId('link') : undefined}
            disabled={busy === 'link'}
            onClick={newLink}
          >
            New sign-in link
          </button>
        </div>
        {(['disabled', 'link'] as const).map((control) =>
          errorFor(control) ? (
            <div key={control} id={errorId(control)} className="small text-danger mt-1" role="alert">
              {errorFor(control)}
            </div>
          ) : null,
        )}
        <ConfirmDialog
          open={confirming}
          title={`${action} ${account.name}?`}
          confirmLabel={action}
          busyLabel={account.disabled ? 'Enabling…' : 'Disabling…'}
          variant={account.disabled ? 'primary' : 'danger'}
          busy={busy === 'disabled'}
          error={dialogError}
          onConfirm={() => void toggleDisabled()}
          onCancel={() => setConfirming(false)}
        >
          <p className="mb-0">
            {account.disabled
              ? `${account.name} can sign in again. Sessions and API tokens ended when the account was disabled stay ended.`
              : `${account.name} is signed out everywhere at once, and their API tokens stop working.${isSelf ? ' That includes you, here.' : ''}`}
          </p>
        </ConfirmDialog>
      </td>
    </tr>
  );
}
