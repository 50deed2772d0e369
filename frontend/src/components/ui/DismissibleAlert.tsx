import type { ReactNode } from 'react';

interface DismissibleAlertProps {
  variant: 'success' | 'info' | 'warning' | 'danger';
  /** `status` for news that can wait, `alert` for news that should interrupt. */
  role: 'status' | 'alert';
  children: ReactNode;
  onDismiss: () => void;
}

/** A one-line message with a Dismiss button (Bootstrap's markup, no Bootstrap JS). */
export function DismissibleAlert({ variant, role, children, onDismiss }: DismissibleAlertProps) {
  return (
    <div className={`alert alert-${variant} alert-dismissible`} role={role}>
      {children}
      <button type="button" className="btn-close" aria-label="Dismiss" onClick={onDismiss} />
    </div>
  );
}
