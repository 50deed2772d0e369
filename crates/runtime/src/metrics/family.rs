//! What a metric family is (name, type, labels, unit, help), and the typed handles code
//! records through: [`Counter`], [`Gauge`], [`Histogram`], each with its number of labels.
//!
//! Label values are passed in the order of the definition's labels; the type of each family
//! fixes how many there are. Label values must come from a bounded set (a route pattern,
//! never a raw path).

use metrics::{Label, SharedString, Unit};

/// A metric's type, as Prometheus shows it (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up; `_total` by convention.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations in buckets (`_seconds` families use the latency buckets).
    Histogram,
}

impl Kind {
    /// The type's name in the Prometheus text format.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// What one metric family is: all that `/metrics` says about it besides its samples.
#[derive(Debug, Clone, Copy)]
pub struct Definition {
    /// The family's name in `/metrics`.
    pub name: &'static str,
    /// Its `# TYPE`.
    pub kind: Kind,
    /// Label names, in the order values are passed when recording.
    pub labels: &'static [&'static str],
    /// Passed to the recorder; the exporter does not add it to the name.
    pub unit: Option<Unit>,
    /// The `# HELP` text.
    pub help: &'static str,
}

impl Definition {
    pub(super) fn labels<V: Into<SharedString>>(
        &self,
        values: impl IntoIterator<Item = V>,
    ) -> Vec<Label> {
        self.labels
            .iter()
            .zip(values)
            .map(|(key, value)| Label::new(*key, value))
            .collect()
    }

    /// Registers the help text (and unit) with the installed recorder.
    pub fn describe(&self) {
        let (name, unit, help) = (self.name, self.unit, self.help);
        metrics::with_recorder(|recorder| match self.kind {
            Kind::Counter => recorder.describe_counter(name.into(), unit, help.into()),
            Kind::Gauge => recorder.describe_gauge(name.into(), unit, help.into()),
            Kind::Histogram => recorder.describe_histogram(name.into(), unit, help.into()),
        });
    }
}

/// The label values of a family without labels.
pub const NO_LABELS: [&str; 0] = [];

/// A counter family with `N` labels.
#[derive(Debug)]
pub struct Counter<const N: usize>(pub Definition);

impl<const N: usize> Counter<N> {
    pub const fn new(
        name: &'static str,
        labels: &'static [&'static str; N],
        unit: Option<Unit>,
        help: &'static str,
    ) -> Self {
        Counter(Definition {
            name,
            kind: Kind::Counter,
            labels,
            unit,
            help,
        })
    }

    /// Adds one to the series with these label values.
    pub fn increment<V: Into<SharedString>>(&self, values: [V; N]) {
        self.add(values, 1);
    }

    /// Adds `n` to the series with these label values.
    pub fn add<V: Into<SharedString>>(&self, values: [V; N], n: u64) {
        metrics::counter!(self.0.name, self.0.labels(values)).increment(n);
    }

    /// The series with these label values, to record into repeatedly.
    pub fn handle<V: Into<SharedString>>(&self, values: [V; N]) -> metrics::Counter {
        metrics::counter!(self.0.name, self.0.labels(values))
    }

    /// Shows the series with these label values at 0 before its first event, so that
    /// `increase()` and `rate()` (and the alerts built on them) see that first event.
    pub fn start_at_zero<V: Into<SharedString>>(&self, values: [V; N]) {
        self.add(values, 0);
    }
}

/// A gauge family with `N` labels.
#[derive(Debug)]
pub struct Gauge<const N: usize>(pub Definition);

impl<const N: usize> Gauge<N> {
    pub const fn new(
        name: &'static str,
        labels: &'static [&'static str; N],
        unit: Option<Unit>,
        help: &'static str,
    ) -> Self {
        Gauge(Definition {
            name,
            kind: Kind::Gauge,
            labels,
            unit,
            help,
        })
    }

    /// Sets the series with these label values.
    pub fn set<V: Into<SharedString>>(&self, values: [V; N], value: f64) {
        metrics::gauge!(self.0.name, self.0.labels(values)).set(value);
    }

    /// Adds `delta` (negative to subtract) to the series with these label values.
    pub fn add<V: Into<SharedString>>(&self, values: [V; N], delta: f64) {
        metrics::gauge!(self.0.name, self.0.labels(values)).increment(delta);
    }
}

/// A histogram family with `N` labels.
#[derive(Debug)]
pub struct Histogram<const N: usize>(pub Definition);

impl<const N: usize> Histogram<N> {
    pub const fn new(
        name: &'static str,
        labels: &'static [&'static str; N],
        unit: Option<Unit>,
        help: &'static str,
    ) -> Self {
        Histogram(Definition {
            name,
            kind: Kind::Histogram,
            labels,
            unit,
            help,
        })
    }

    /// Records one observation in the series with these label values.
    pub fn record<V: Into<SharedString>>(&self, values: [V; N], value: f64) {
        metrics::histogram!(self.0.name, self.0.labels(values)).record(value);
    }

    /// The series with these label values, to record into repeatedly.
    pub fn handle<V: Into<SharedString>>(&self, values: [V; N]) -> metrics::Histogram {
        metrics::histogram!(self.0.name, self.0.labels(values))
    }
}

/// Defines each family as a `pub static`, documented by its help text, and lists them all in
/// a `pub static ALL: &[&Definition]`, so that no family can be defined and left out of the
/// list. A service defines its own families with it (`shop_runtime::metric_families!`) and
/// registers their help with [`describe`] once the recorder is installed.
#[macro_export]
macro_rules! metric_families {
    ($( $ident:ident: $kind:ident<$n:literal> = $name:literal, [$($label:literal),*], $unit:expr, $help:literal; )*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $help)]
            pub static $ident: $crate::metrics::family::$kind<$n> = $crate::metrics::family::$kind::new($name, &[$($label),*], $unit, $help);
        )*

        /// Every family, in the order defined here.
        pub static ALL: &[&$crate::metrics::family::Definition] = &[$(&$ident.0),*];
    };
}

/// Registers the help text of `families` with the installed recorder.
pub fn describe(families: &[&Definition]) {
    for family in families {
        family.describe();
    }
}
