import { useCallback, useState } from 'react';
import { ConfirmDialog } from '@/components/ui/ConfirmDialog';
import { DismissibleAlert } from '@/components/ui/DismissibleAlert';
import { EmptyState } from '@/components/ui/EmptyState';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { useCurrentAdmin } from '@/hooks/use-current-admin';
import { useDocumentTitle } from '@/hooks/use-document-title';
import { useResource } from '@/hooks/use-resource';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { canManageAccounts } from '@/lib/roles';
import { isSignInRequired } from '@/lib/session';
import { type ApiToken, listTokens, type NewToken, revokeToken } from '../api/tokens';
import { CreateTokenForm } from './CreateTokenForm';
import { NewTokenPanel } from './NewTokenPanel';
import { TokensTable } from './TokensTable';

/**
 * `paths.tokens`: API tokens for scripts. One's own (an admin: every live token, with its
 * owner); create one (shown once, to copy), revoke one (confirmed).
 */
export function TokensPage() {
  useDocumentTitle('API tokens');
  const admin = useCurrentAdmin();
  const { state, reload, setData } = useResource(useCallback((signal: AbortSignal) => listTokens(signal), []));
  const [created, setCreated] = useState<NewToken | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [toRevoke, setToRevoke] = useState<ApiToken | null>(null);
  const [revoking, setRevoking] = useState(false);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();

  function handleCreated(token: NewToken) {
    // The list keeps the entry, never the secret.
    const entry: ApiToken = {
      id: token.id,
      name: token.name,
      owner: token.owner,
      created_at: token.created_at,
      last_used_at: token.last_used_at,
      expires_at: token.expires_at,
      expired: token.expired,
    };
    setData((tokens) => [...tokens, entry]);
    setMessage(null);
    setCreated(token);
  }

  async function confirmRevoke() {
    if (!toRevoke) return;
    const token = toRevoke;
    setRevoking(true);
    setRevokeError(null);
    try {
      await revokeToken(token.id);
      setMessage(`Revoked “${token.name}”: it no longer works.`);
    } catch (error) {
      if (isSignInRequired(error)) return sessionEnded();
      const e = toApiError(error);
      if (!e.isNotFound) {
        setRevokeError(`“${token.name}” was not revoked. ${describeError(e)}`);
        setRevoking(false);
        return;
      }
      setMessage(`“${token.name}” had already been revoked.`);
    }
    setData((tokens) => tokens.filter((t) => t.id !== token.id));
    setRevoking(false);
    setToRevoke(null);
  }

  return (
    <>
      <h1 className="h2 mb-1">API tokens</h1>
      <p className="text-body-secondary mb-4">
        For scripts, CI and monitoring: a token acts with its owner’s role.
        {canManageAccounts(admin) ? ' As an admin you see every live token.' : ''}
      </p>

      {created ? <NewTokenPanel token={created} onDone={() => setCreated(null)} /> : null}
      {message ? (
        <DismissibleAlert variant="success" role="status" onDismiss={() => setMessage(null)}>
          {message}
        </DismissibleAlert>
      ) : null}

      <ResourceStatus state={state} loadingLabel="Loading tokens…" errorTitle="We couldn’t load the tokens." onRetry={reload} />
      {state.status === 'success' && state.data.length > 0 ? (
        <TokensTable
          tokens={state.data}
          showOwner={canManageAccounts(admin)}
          onRevoke={(token) => {
            setRevokeError(null);
            setToRevoke(token);
          }}
        />
      ) : null}
      {state.status === 'success' && state.data.length === 0 ? (
        <div className="mb-4">
          <EmptyState title="No API tokens yet">Create one below for a script that changes the catalogue.</EmptyState>
        </div>
      ) : null}

      <CreateTokenForm onCreated={handleCreated} />

      <ConfirmDialog
        open={toRevoke !== null}
        title="Revoke token?"
        confirmLabel="Revoke"
        busyLabel="Revoking…"
        busy={revoking}
        error={revokeError}
        onConfirm={() => void confirmRevoke()}
        onCancel={() => {
          if (!revoking) setToRevoke(null);
        }}
      >
        <p className="mb-0">
          Revoke <strong className="text-break">“{toRevoke?.name}”</strong>? Scripts using it stop working at once. This cannot be
          undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
