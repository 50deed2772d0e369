import { Time } from '@/components/ui/Time';
import type { ApiToken } from '../api/tokens';

interface TokensTableProps {
  tokens: ApiToken[];
  /** Show whose each token is (an admin sees everyone's). */
  showOwner: boolean;
  onRevoke: (token: ApiToken) => void;
}

/** The live tokens: name, owner, created, last used, expiry (or expired), Revoke. */
export function TokensTable({ tokens, showOwner, onRevoke }: TokensTableProps) {
  return (
    <div className="card shadow-sm mb-4">
      <div className="table-responsive">
        <table className="table align-middle mb-0 tokens-table">
          <caption className="visually-hidden">API tokens</caption>
          <thead className="table-light">
            <tr>
              <th scope="col">Name</th>
              {showOwner ? <th scope="col">Owner</th> : null}
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id}>
                <th scope="row" className="text-break font-monospace">
                  {token.name}
                </th>
                {showOwner ? <td>{token.owner ? token.owner.name : <span className="text-body-secondary">No owner (acts as an admin)</span>}</td> : null}
                <td className="small">
                  <Time value={token.created_at} />
                </td>
                <td className="small">
                  <Time value={token.last_used_at} fallback="Never" />
                </td>
                <td className="small">
                  {token.expired ? (
                    <span className="badge text-bg-danger">Expired</span>
                  ) : token.expires_at ? (
                    <Time value={token.expires_at} />
                  ) : (
                    'Never'
                  )}
                </td>
                <td className="text-end">
                  <button
                    type="button"
                    className="btn btn-sm btn-outline-danger"
                    aria-label={`Revoke ${token.name}`}
                    onClick={() => onRevoke(token)}
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
