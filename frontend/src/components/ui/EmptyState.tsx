import type { ReactNode } from 'react';

interface EmptyStateProps {
  title: string;
  children?: ReactNode;
  /** A call to action, e.g. a link to add the first item. */
  action?: ReactNode;
  icon?: ReactNode;
}

export function EmptyState({ title, children, action, icon }: EmptyStateProps) {
  return (
    <section className="empty-state text-center py-5 px-3 border rounded-3 bg-body" aria-label={title}>
      {icon ? (
        <div className="empty-state-icon mb-3 text-body-secondary" aria-hidden="true">
          {icon}
        </div>
      ) : null}
      <h2 className="h4">{title}</h2>
      {children ? <div className="text-body-secondary mb-3">{children}</div> : null}
      {action}
    </section>
  );
}
