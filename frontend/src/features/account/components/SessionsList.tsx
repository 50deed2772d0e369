import { useState } from 'react';
import { ButtonSpinner } from '@/components/ui/Spinner';
import { ResourceStatus } from '@/components/ui/ResourceStatus';
import { Time } from '@/components/ui/Time';
import type { Resource } from '@/hooks/use-resource';
import { useSessionEnded } from '@/hooks/use-session-ended';
import { describeError, toApiError } from '@/lib/api-client';
import { isSignInRequired } from '@/lib/session';
import { endSession, type Session, signOutOthers } from '../api/own-account';
import { describeUserAgent } from '../user-agent';

/**
 * "Signed in on…": one's sessions, newest first, each as its browser and system, address,
 * when it started and was last seen; "This browser" for the current one; Sign out for each
 * other one, and Sign out all other sessions.
 */
export function SessionsList({ sessions }: { sessions: Resource<Session[]> }) {
  const { state, reload, setData } = sessions;
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const sessionEnded = useSessionEnded();

  async function run(key: string, work: () => Promise<string>) {
    setBusy(key);
    setError(null);
    setMessage(null);
    try {
      setMessage(await work());
    } catch (e) {
      if (isSignInRequired(e)) return sessionEnded();
      setError(describeError(toApiError(e)));
    }
    setBusy(null);
  }

  function endOne(session: Session) {
    void run(session.id, async () => {
      try {
        await endSession(session.id);
      } catch (e) {
        if (!toApiError(e).isNotFound) throw e;
      }
      setData((list) => list.filter((s) => s.id !== session.id));
      return `Signed out ${describeUserAgent(session.user_agent)}.`;
    });
  }

  function endOthers() {
    void run('others', async () => {
      const n = await signOutOthers();
      setData((list) => list.filter((s) => s.current));
      return n === 0 ? 'There were no other sessions.' : `Signed out ${n} other ${n === 1 ? 'session' : 'sessions'}.`;
    });
  }

  const others = state.status === 'success' ? state.data.filter((s) => !s.current).length : 0;
  return (
    <section className="card shadow-sm" aria-labelledby="sessions-title">
      <div className="card-body">
        <div className="d-flex flex-wrap align-items-center justify-content-between gap-2 mb-2">
          <h2 id="sessions-title" className="h5 mb-0">
            Signed in on…
          </h2>
          {others > 0 ? (
            <button type="button" className="btn btn-sm btn-outline-danger" onClick={endOthers} disabled={busy !== null}>
              {busy === 'others' ? <ButtonSpinner /> : null}
              Sign out all other sessions
            </button>
          ) : null}
        </div>
        <p className="small mb-2" role="status">
          {message}
        </p>
        {error ? (
          <div className="alert alert-danger" role="alert">
            {error}
          </div>
        ) : null}
        <ResourceStatus state={state} loadingLabel="Loading your sessions…" errorTitle="We couldn’t load your sessions." onRetry={reload} />
        {state.status === 'success' ? (
          <ul className="list-group list-group-flush" aria-label="Your sessions">
            {state.data.map((session) => {
              const what = describeUserAgent(session.user_agent);
              return (
                <li key={session.id} className="list-group-item px-0 d-flex flex-wrap align-items-center justify-content-between gap-2">
                  <div>
                    <p className="fw-semibold mb-0" title={session.user_agent ?? undefined}>
                      {what}
                      {session.current ? <span className="badge text-bg-success ms-2">This browser</span> : null}
                    </p>
                    <p className="small text-body-secondary mb-0">
                      {session.ip ?? 'Unknown address'} · signed in <Time value={session.created_at} /> · last seen{' '}
                      <Time value={session.last_seen_at} />
                    </p>
                  </div>
                  {session.current ? null : (
                    <button
                      type="button"
                      className="btn btn-sm btn-outline-secondary"
                      aria-label={`Sign out ${what} (${session.ip ?? 'unknown address'})`}
                      disabled={busy !== null}
                      onClick={() => endOne(session)}
                    >
                      {busy === session.id ? <ButtonSpinner /> : null}
                      Sign out
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        ) : null}
      </div>
    </section>
  );
}
