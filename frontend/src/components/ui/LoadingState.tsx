interface LoadingStateProps {
  /** What is loading, e.g. "Loading products…". */
  label: string;
}

/** A centred spinner with a visible, announced label. */
export function LoadingState({ label }: LoadingStateProps) {
  return (
    <div className="d-flex align-items-center justify-content-center gap-3 py-5 text-body-secondary" role="status">
      <span className="spinner-border" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
