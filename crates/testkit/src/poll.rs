//! Waiting for something that happens in another process.

use std::fmt::Debug;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// What one look of [`eventually`]'s check found: done (with what the wait returns), or not
/// yet, with what it saw instead when it can say.
pub trait Look {
    /// What [`eventually`] returns once the check is done.
    type Value;
    /// `Ok` when done; `Err` with what was seen instead (`None`: it cannot say).
    fn look(self) -> Result<Self::Value, Option<String>>;
}

/// `Some(value)`: done. `None`: not yet, and nothing to tell.
impl<T> Look for Option<T> {
    type Value = T;
    fn look(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

/// `Ok(value)`: done. `Err(seen)`: not yet; `seen` is what a timeout reports.
impl<T, E: Debug> Look for Result<T, E> {
    type Value = T;
    fn look(self) -> Result<T, Option<String>> {
        self.map_err(|seen| Some(format!("{seen:?}")))
    }
}

/// `Ok(value)` when `done(&value)`, else `Err(value)`: for a check of [`eventually`] that
/// reports what it last saw when the wait times out.
///
/// ```ignore
/// eventually(WAIT, "two likes", || async {
///     seen(client.catalogue_product(id).await["likes"].clone(), |l| *l == 2)
/// })
/// ```
pub fn seen<V>(value: V, done: impl FnOnce(&V) -> bool) -> Result<V, V> {
    if done(&value) { Ok(value) } else { Err(value) }
}

/// Polls `check` (every 50 ms) until it is done, or panics after `timeout` with how long it
/// waited, how many looks it took and what the last look saw (a check that returns
/// `Result` says it in its `Err`; see [`seen`]). One look that does not return at all is cut
/// off at the deadline (plus a second's grace) and reported as such.
pub async fn eventually<L, F, Fut>(timeout: Duration, what: &str, mut check: F) -> L::Value
where
    L: Look,
    F: FnMut() -> Fut,
    Fut: Future<Output = L>,
{
    let start = Instant::now();
    let deadline = start + timeout;
    let mut looks = 0u32;
    loop {
        looks += 1;
        let limit = deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(1);
        let last = match tokio::time::timeout(limit, check()).await {
            Ok(found) => match found.look() {
                Ok(v) => return v,
                Err(seen) => {
                    seen.unwrap_or_else(|| "nothing to show (the check returns no value)".into())
                }
            },
            Err(_) => format!("look {looks} did not return within {limit:?}"),
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {:.1} s ({looks} looks) waiting for {what}; last seen: {last}",
            start.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A future whose wakes and polls are counted, for a test that asserts a task did *not* do
/// something (stop, for one) after being told something (a cancellation, say): once the task
/// has been polled since its last wake ([`Watch::settled`]), it has seen everything it was
/// told, and what it did not do by then it did not do because of it, however slow the
/// machine. Spawn the [`Watched`] future; keep the [`Watch`].
pub struct Watched<F> {
    inner: Pin<Box<F>>,
    watch: Watch,
}

/// What a test reads of a [`Watched`] future.
#[derive(Clone, Default)]
pub struct Watch(Arc<Counts>);

#[derive(Default)]
struct Counts {
    wakes: AtomicU64,
    /// `wakes` as it was when the last poll began.
    seen: AtomicU64,
    polls: AtomicU64,
    done: AtomicBool,
}

/// Passes a wake on to the task's own waker, counting it first.
struct CountingWaker {
    task: Waker,
    counts: Arc<Counts>,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.counts.wakes.fetch_add(1, Ordering::SeqCst);
        self.task.wake_by_ref();
    }
}

impl<F: Future> Watched<F> {
    pub fn new(inner: F) -> (Self, Watch) {
        let watch = Watch::default();
        let watched = Watched {
            inner: Box::pin(inner),
            watch: watch.clone(),
        };
        (watched, watch)
    }
}

impl<F: Future> Future for Watched<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let counts = self.watch.0.clone();
        counts
            .seen
            .store(counts.wakes.load(Ordering::SeqCst), Ordering::SeqCst);
        counts.polls.fetch_add(1, Ordering::SeqCst);
        let waker = Waker::from(Arc::new(CountingWaker {
            task: cx.waker().clone(),
            counts: counts.clone(),
        }));
        let polled = self.inner.as_mut().poll(&mut Context::from_waker(&waker));
        if polled.is_ready() {
            counts.done.store(true, Ordering::SeqCst);
        }
        polled
    }
}

impl Watch {
    /// Whether the future has returned.
    pub fn finished(&self) -> bool {
        self.0.done.load(Ordering::SeqCst)
    }

    /// How often it was polled.
    pub fn polls(&self) -> u64 {
        self.0.polls.load(Ordering::SeqCst)
    }

    /// Waits (at most `within`) until the future has been polled since its last wake, or
    /// has returned: it has acted on everything that woke it.
    pub async fn settled(&self, within: Duration) {
        eventually(
            within,
            "the watched task polled since its last wake",
            || async {
                let (wakes, seen) = (
                    self.0.wakes.load(Ordering::SeqCst),
                    self.0.seen.load(Ordering::SeqCst),
                );
                if self.finished() || seen >= wakes {
                    Ok(())
                } else {
                    Err(format!("{wakes} wakes, polled after {seen} of them"))
                }
            },
        )
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_timeout_reports_the_last_value_seen() {
        let mut n = 0;
        let waited = tokio::spawn(async move {
            eventually(Duration::from_millis(300), "seven", || {
                n += 1;
                let n = n;
                async move { seen(n, |n| *n == 7_000) }
            })
            .await
        })
        .await;
        let panic = waited.unwrap_err().into_panic();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("waiting for seven"), "{message}");
        // Every 50 ms for 0.3 s: a handful of looks, the last one's value reported.
        let looks: u32 = message
            .split(" looks)")
            .next()
            .and_then(|s| s.rsplit('(').next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        assert!((2..20).contains(&looks), "{message}");
        assert!(
            message.ends_with(&format!("last seen: {looks}")),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_check_done_returns_its_value() {
        let mut n = 0;
        let got = eventually(Duration::from_secs(5), "three", || {
            n += 1;
            let n = n;
            async move { seen(n, |n| *n == 3) }
        })
        .await;
        assert_eq!(got, 3);
        let got = eventually(Duration::from_secs(5), "some", || async { Some("yes") }).await;
        assert_eq!(got, "yes");
    }

    /// A task that stops when told (the fault a watch must catch) is seen finished once
    /// settled, however late it ran; one that ignores the token is seen still running.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_settled_watch_has_seen_the_wake() {
        for stops in [true, false] {
            let token = Arc::new(tokio::sync::Notify::new());
            let (task, watch) = Watched::new({
                let token = token.clone();
                async move {
                    if stops {
                        token.notified().await;
                    } else {
                        std::future::pending::<()>().await;
                    }
                }
            });
            let handle = tokio::spawn(task);
            // Polled at least once: waiting on the token (or on nothing).
            eventually(Duration::from_secs(5), "first poll", || async {
                (watch.polls() > 0).then_some(())
            })
            .await;
            token.notify_one();
            watch.settled(Duration::from_secs(5)).await;
            assert_eq!(watch.finished(), stops);
            handle.abort();
        }
    }

    #[tokio::test]
    async fn a_look_that_never_returns_fails_at_the_deadline() {
        let waited = tokio::spawn(async {
            eventually(Duration::from_millis(100), "a hung check", || async {
                std::future::pending::<Option<()>>().await
            })
            .await
        });
        let result = tokio::time::timeout(Duration::from_secs(5), waited)
            .await
            .expect("eventually gave up on its own");
        let panic = result.unwrap_err().into_panic();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains("did not return"), "{message}");
    }
}
