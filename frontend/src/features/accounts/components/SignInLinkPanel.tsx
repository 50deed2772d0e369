import { useEffect, useRef } from 'react';
import { CopyField } from '@/components/ui/CopyField';
import { formatDateTime, formatRelative, parseTime } from '@/lib/time';
import { linkUrl, type SignInLink } from '../api/accounts';

interface SignInLinkPanelProps {
  /** Whose link, e.g. "Grace Hopper". */
  name: string;
  /** Why it was made: a new account, or a new link for an existing one. */
  reason: 'created' | 'new-link';
  link: SignInLink;
  onDone: () => void;
}

/**
 * A one-time link to send to an account's owner: the full address with Copy link, and until
 * when it works. It is not shown again (only its hash is kept); focus moves here.
 */
export function SignInLinkPanel({ name, reason, link, onDone }: SignInLinkPanelProps) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), [link.link]);
  const expires = parseTime(link.expires_at);
  return (
    <section className="alert alert-success" aria-labelledby="sign-in-link-title">
      <h2 id="sign-in-link-title" ref={headingRef} tabIndex={-1} className="h5">
        {reason === 'created' ? `Added ${name}` : `New sign-in link for ${name}`}
      </h2>
      <p>
        Send {name} this link to set their password. It works once
        {expires ? (
          <>
            , until <time dateTime={expires.toISOString()}>{formatDateTime(expires)}</time> ({formatRelative(expires)})
          </>
        ) : null}
        . It is not shown again{reason === 'new-link' ? '; earlier links for this account no longer work' : ''}.
      </p>
      <CopyField label="Sign-in link" value={linkUrl(link.link)} copyLabel="Copy link" />
      <button type="button" className="btn btn-outline-success mt-2" onClick={onDone}>
        Done
      </button>
    </section>
  );
}
