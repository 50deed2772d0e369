import { type ReactNode, useEffect, useEffectEvent, useId, useRef } from 'react';
import { createPortal } from 'react-dom';
import { ButtonSpinner } from './Spinner';

interface ConfirmDialogProps {
  open: boolean;
  title: string;
  /** The question, naming what will happen. */
  children: ReactNode;
  confirmLabel: string;
  /** Shown on the confirm button while `busy`. */
  busyLabel?: string;
  cancelLabel?: string;
  variant?: 'danger' | 'primary';
  /** While true, both buttons are disabled and Escape does nothing. */
  busy?: boolean;
  /** An error to show inside the dialog (e.g. the action failed; the person may retry). */
  error?: ReactNode;
  onConfirm: () => void;
  onCancel: () => void;
}

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * A modal confirmation dialog with Bootstrap's classes, rendered in React (no Bootstrap JS):
 * role="dialog", aria-modal, labelled by its title and described by its body; focus moves
 * to Cancel when it opens, Tab stays inside it, Escape and a click on the backdrop cancel,
 * and focus returns to what opened it when it closes. The rest of the page is inert and
 * does not scroll while it is open.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  busyLabel,
  cancelLabel = 'Cancel',
  variant = 'danger',
  busy = false,
  error,
  onConfirm,
  onCancel,
}: ConfirmDialogProps) {
  const titleId = useId();
  const bodyId = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  const handleKeyDown = useEffectEvent((event: KeyboardEvent) => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      if (!busy) onCancel();
      return;
    }
    if (event.key !== 'Tab') return;
    const focusable = Array.from(dialog.querySelectorAll<HTMLElement>(FOCUSABLE));
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = document.activeElement;
    if (!first || !last) {
      event.preventDefault();
      dialog.focus();
      return;
    }
    if (!dialog.contains(active) || active === dialog) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    } else if (event.shiftKey && active === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  });

  useEffect(() => {
    if (!open) return;
    const previouslyFocused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const appRoot = document.getElementById('root');
    appRoot?.setAttribute('inert', '');
    document.body.classList.add('modal-open-lock');
    cancelRef.current?.focus();
    const onKeyDown = (event: KeyboardEvent) => handleKeyDown(event);
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
      document.body.classList.remove('modal-open-lock');
      appRoot?.removeAttribute('inert');
      // Give focus back to what opened the dialog; if that is gone (its row was deleted),
      // to the page's main region so keyboard users are not dropped at the top.
      if (previouslyFocused?.isConnected) {
        previouslyFocused.focus();
      } else {
        document.getElementById('main')?.focus();
      }
    };
  }, [open]);

  // The buttons are disabled while busy, which would drop focus to the page behind: keep it
  // on the dialog instead.
  useEffect(() => {
    if (open && busy) dialogRef.current?.focus();
  }, [open, busy]);

  if (!open) return null;

  return createPortal(
    <>
      <div className="modal-backdrop fade show" aria-hidden="true" />
      <div
        ref={dialogRef}
        className="modal fade show d-block"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        aria-describedby={bodyId}
        tabIndex={-1}
        onMouseDown={(event) => {
          if (event.target === event.currentTarget && !busy) onCancel();
        }}
      >
        <div className="modal-dialog modal-dialog-centered">
          <div className="modal-content shadow">
            <div className="modal-header">
              <h2 className="modal-title h5" id={titleId}>
                {title}
              </h2>
              <button type="button" className="btn-close" aria-label="Close" disabled={busy} onClick={onCancel} />
            </div>
            <div className="modal-body">
              <div id={bodyId}>{children}</div>
              {error ? (
                <div className="alert alert-danger mt-3 mb-0" role="alert">
                  {error}
                </div>
              ) : null}
            </div>
            <div className="modal-footer">
              <button ref={cancelRef} type="button" className="btn btn-secondary" disabled={busy} onClick={onCancel}>
                {cancelLabel}
              </button>
              <button type="button" className={`btn btn-${variant}`} disabled={busy} onClick={onConfirm}>
                {busy ? (
                  <>
                    <ButtonSpinner />
                    {busyLabel ?? confirmLabel}
                  </>
                ) : (
                  confirmLabel
                )}
              </button>
            </div>
          </div>
        </div>
      </div>
    </>,
    document.body,
  );
}
