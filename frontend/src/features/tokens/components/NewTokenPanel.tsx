import { useEffect, useRef } from 'react';
import { CopyField } from '@/components/ui/CopyField';
import type { NewToken } from '../api/tokens';

/** A token just made: the secret once, with Copy token and a warning that it is not shown again. */
export function NewTokenPanel({ token, onDone }: { token: NewToken; onDone: () => void }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), [token.id]);
  return (
    <section className="alert alert-warning" aria-labelledby="new-token-title">
      <h2 id="new-token-title" ref={headingRef} tabIndex={-1} className="h5">
        Your new token “{token.name}”
      </h2>
      <p className="fw-semibold">Copy it now: it is not shown again. Only a fingerprint of it is kept.</p>
      <CopyField
        label="API token"
        value={token.token}
        copyLabel="Copy token"
        help={
          <>
            Send it as <code>Authorization: Bearer …</code>. Anyone who has it acts as you until it is revoked
            {token.expires_at ? ' or expires' : ''}.
          </>
        }
      />
      <button type="button" className="btn btn-outline-dark mt-2" onClick={onDone}>
        I have copied it
      </button>
    </section>
  );
}
