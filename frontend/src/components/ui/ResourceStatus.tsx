import type { ResourceState } from '@/hooks/use-resource';
import { describeError } from '@/lib/api-client';
import { ErrorAlert } from './ErrorAlert';
import { LoadingState } from './LoadingState';

interface ResourceStatusProps {
  state: ResourceState<unknown>;
  /** e.g. "Loading products…" */
  loadingLabel: string;
  /** e.g. "We couldn’t load the products." */
  errorTitle: string;
  onRetry: () => void;
}

/** A page's data still loading (spinner) or failed to load (error with Retry); nothing once loaded. */
export function ResourceStatus({ state, loadingLabel, errorTitle, onRetry }: ResourceStatusProps) {
  if (state.status === 'loading') return <LoadingState label={loadingLabel} />;
  if (state.status === 'error') {
    return (
      <ErrorAlert title={errorTitle} onRetry={onRetry}>
        {describeError(state.error)}
      </ErrorAlert>
    );
  }
  return null;
}
