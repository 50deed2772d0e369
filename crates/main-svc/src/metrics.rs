//! main-svc's own metrics, defined as the runtime defines its own
//! (`shop_runtime::metrics::catalog`), and registered with the recorder when the API starts.

shop_runtime::metric_families! {
    LIVE_STREAMS_OPEN: Gauge<0> = "live_streams_open",
        [], None,
        "Live like-count streams (GET /flask/api/products/events) open now, at most LIVE_MAX_STREAMS.";
    LIVE_STREAMS_REFUSED: Counter<1> = "live_streams_refused_total",
        ["reason"], None,
        "Live streams refused with 503, by reason (full: LIVE_MAX_STREAMS open; stopping: the process is stopping; database: the first stream could not read where the likes are).";
    LIVE_EVENTS_SENT: Counter<1> = "live_events_sent_total",
        ["event"], None,
        "Events handed to live streams, by event (likes, resync); a likes update counts once per stream it goes to.";
    LIVE_UPDATE_DURATION: Histogram<0> = "live_update_duration_seconds",
        [], Some(metrics::Unit::Seconds),
        "Time for one round of the live counts' poller: read the new likes and their products' counts, encode, hand to every stream.";
    LIKE_BATCH_SIZE: Histogram<0> = "like_batch_size",
        [], None,
        "Likes per batch of main-api's like batcher (one transaction each), at most LIKE_BATCH_MAX; the mean is _sum / _count.";
    LIKE_BATCHES: Counter<1> = "like_batches_total",
        ["outcome"], None,
        "Like batches, by outcome (committed: in one transaction; one_by_one: the batch failed and its likes ran one at a time; failed: no connection, every like answered with the error).";
}

/// Registers the help text of main-svc's metrics with the installed recorder.
pub fn describe() {
    shop_runtime::metrics::family::describe(ALL);
}
