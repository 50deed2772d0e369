import { type ReactNode, useEffect, useId, useRef } from 'react';
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

/**
 * A modal confirmation dialog: the native `<dialog>` opened with `showModal()`, which makes
 * the rest of the page inert and keeps Tab inside it (the browser's own controls aside),
 * dressed in Bootstrap's modal classes (no Bootstrap JS). Labelled by its title and
 * described by its body; focus moves to Cancel when it opens; Escape and a click on the
 * backdrop cancel; the page behind does not scroll.
 *
 * It is shown while `open` and removed from the page when closed, so the parent's state
 * alone decides whether it is open: Escape asks `onCancel` rather than closing it.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  return props.open ? <OpenConfirmDialog {...props} /> : null;
}

function OpenConfirmDialog({
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
  const dialogRef = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    const previouslyFocused = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    cancelRef.current?.focus();
    // A modal <dialog> does not stop the page behind it from scrolling.
    document.body.classList.add('modal-open-lock');
    return () => {
      // By now React has usually removed the dialog, which takes it out of the top layer;
      // close() is for when it has not (StrictMode's rehearsal unmount in development).
      dialog.close();
      document.body.classList.remove('modal-open-lock');
      // Give focus back to what opened the dialog (a removed dialog has no browser focus
      // restore) or, if that is gone (its row was deleted), to the page's main region so
      // keyboard users are not dropped at the top.
      if (previouslyFocused?.isConnected) {
        previouslyFocused.focus();
      } else {
        document.getElementById('main')?.focus();
      }
    };
  }, []);

  // The buttons are disabled while busy, which would drop focus out of the dialog: keep it
  // on the dialog itself.
  useEffect(() => {
    if (busy) dialogRef.current?.focus();
  }, [busy]);

  return (
    <dialog
      ref={dialogRef}
      className="modal"
      aria-modal="true"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      tabIndex={-1}
      onKeyDown={(event) => {
        // Escape would close the dialog behind React's back: the parent decides instead.
        if (event.key !== 'Escape') return;
        event.preventDefault();
        if (!busy) onCancel();
      }}
      onCancel={(event) => {
        // Other close requests (e.g. Android's back gesture) ask the parent too.
        event.preventDefault();
        if (!busy) onCancel();
      }}
      onClose={() => {
        // A close request the dialog could not refuse (browsers let a page refuse only
        // some in a row) must not leave a busy dialog closed while the parent waits.
        if (busy) dialogRef.current?.showModal();
      }}
      onMouseDown={(event) => {
        // The dialog element covers the viewport; only the area around the box is itself.
        // No default action: it would move focus to an ancestor (<main>) after onCancel
        // has given it back to the trigger.
        if (event.target !== event.currentTarget) return;
        event.preventDefault();
        if (!busy) onCancel();
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
    </dialog>
  );
}
