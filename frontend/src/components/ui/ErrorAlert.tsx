import type { ReactNode } from 'react';

interface ErrorAlertProps {
  title: string;
  children?: ReactNode;
  /** Shows a Retry button that calls this. */
  onRetry?: (() => void) | undefined;
  retryLabel?: string;
}

/** A danger alert that explains what failed and, when it can help, offers to retry. */
export function ErrorAlert({ title, children, onRetry, retryLabel = 'Retry' }: ErrorAlertProps) {
  return (
    <div className="alert alert-danger d-flex flex-column flex-sm-row align-items-sm-center gap-3" role="alert">
      <div className="flex-grow-1">
        <p className="fw-semibold mb-1">{title}</p>
        {children ? <div className="mb-0">{children}</div> : null}
      </div>
      {onRetry ? (
        <button type="button" className="btn btn-outline-danger flex-shrink-0" onClick={onRetry}>
          {retryLabel}
        </button>
      ) : null}
    </div>
  );
}
