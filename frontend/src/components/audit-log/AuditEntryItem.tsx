import { Link } from 'react-router';
import { Time } from '@/components/ui/Time';
import { type AuditEntry, entrySentence, formatChangeValue, productLabel } from '@/lib/audit-log';
import { productHistoryPath } from '@/lib/paths';

interface AuditEntryItemProps {
  entry: AuditEntry;
  /** Link the product to its history (off on that product's own history page). */
  linkProducts?: boolean;
  /** Show the changes, old → new (off in the compact "Recent actions" panel). */
  showChanges?: boolean;
}

/** One audit entry as a list item: who did what to which product, when, and what changed. */
export function AuditEntryItem({ entry, linkProducts = true, showChanges = true }: AuditEntryItemProps) {
  const changes = Object.entries(entry.changes);
  return (
    <li className="list-group-item audit-entry">
      <p className="mb-1 text-break">
        {entrySentence(entry).map((part, i) => {
          if (part.kind === 'actor') return <strong key={i}>{part.text}</strong>;
          if (part.kind === 'text') return <span key={i}>{part.text}</span>;
          const label = productLabel(part.id, part.title);
          return linkProducts ? (
            <Link key={i} to={productHistoryPath(part.id)} title={`History of product #${part.id}`}>
              {label}
            </Link>
          ) : (
            <span key={i}>{label}</span>
          );
        })}
      </p>
      <p className="small text-body-secondary mb-0">
        <Time value={entry.at} />
        {entry.ip ? <> · from {entry.ip}</> : null}
      </p>
      {showChanges && changes.length > 0 ? (
        <ul className="list-unstyled small mb-0 mt-1 audit-changes">
          {changes.map(([field, change]) => (
            <li key={field} className="text-break">
              <span className="fw-semibold">{field}</span>: {formatChangeValue(change.old)} → {formatChangeValue(change.new)}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

interface AuditEntryListProps extends Omit<AuditEntryItemProps, 'entry'> {
  entries: AuditEntry[];
  /** The list's accessible name. */
  label: string;
}

/** Entries, newest first, as an ordered list. */
export function AuditEntryList({ entries, label, ...item }: AuditEntryListProps) {
  return (
    <ol className="list-group list-group-flush" aria-label={label}>
      {entries.map((entry) => (
        <AuditEntryItem key={entry.id} entry={entry} {...item} />
      ))}
    </ol>
  );
}
