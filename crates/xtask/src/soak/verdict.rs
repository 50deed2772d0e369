//! The soak's verdict on each resource: does it grow after the warm-up?
//!
//! Per series, the samples of the last half of the run, minus those taken during a fault
//! and its settling (fault windows), are fitted with one least-squares slope shared by
//! segments that each have their own level (a process restarted by a fault starts a new
//! segment: its memory starts again from nothing, which is no growth). The growth is the
//! slope over the half's length; the noise is the spread of the residuals around the fit.
//! A resource grows when its growth exceeds every bar: four times the residuals' spread
//! (a sawtooth of purges, cut anywhere, moves a fitted line by about one amplitude, 3.5
//! spreads), a share of its level, and a floor of its kind (what no leak worth the name
//! stays under). Bars this wide are what keeps a 3-minute run on a busy machine honest;
//! the 20-minute run sees smaller leaks, since a leak's growth scales with the time.

use std::fmt::Write as _;

/// What a series measures, which sets its floor and whether it is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Resident memory, MB.
    Memory,
    /// Open file descriptors.
    Fds,
    Threads,
    /// The database server's threads or open files: one of each per client connection, so
    /// bounded by the four pools' maxima together, which a fault's reconnections may reach
    /// and the server keep (its thread cache).
    ServerPerConnection,
    /// Database connections.
    Connections,
    /// Rows of a table that purges keep bounded.
    Rows,
    /// Messages in a queue.
    Messages,
    /// Disk use, MB.
    Disk,
    /// Grows by design (likes and products are kept, logs are the operator's to rotate):
    /// reported, not judged.
    Data,
}

impl Kind {
    /// The floor a growth must pass to count.
    fn floor(self) -> f64 {
        match self {
            Kind::Memory => 4.0,
            // A pool may open up to its maximum (DB_MAX_CONNECTIONS, 10) after a fault and
            // keep them: each is a socket here and a thread in the server; bounded, no leak.
            Kind::Fds | Kind::Threads | Kind::Connections => 10.0,
            // Four processes, each with a pool of up to DB_MAX_CONNECTIONS (10).
            Kind::ServerPerConnection => 40.0,
            Kind::Rows | Kind::Messages => 100.0,
            Kind::Disk => 8.0,
            Kind::Data => f64::INFINITY,
        }
    }
}

/// A share of the level a growth must pass too.
const SHARE: f64 = 0.10;
/// Residual spreads a growth must pass.
const SPREADS: f64 = 4.0;

#[derive(Debug, Clone, Copy)]
pub struct Point {
    /// Seconds since the load started.
    pub t: f64,
    pub v: f64,
    /// Segment: a process's restarts.
    pub seg: u32,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub kind: Kind,
    pub points: Vec<Point>,
}

#[derive(Debug, Clone)]
pub struct Judged {
    pub name: String,
    pub kind: Kind,
    pub first_mean: f64,
    pub last_mean: f64,
    pub max: f64,
    /// Growth over the last half, from the fitted slope.
    pub growth: f64,
    pub spread: f64,
    pub bar: f64,
    pub n: usize,
    pub grows: bool,
}

/// Samples a judged series needs in the last half, outside the fault windows.
pub const MIN_SAMPLES: usize = 10;

impl Judged {
    /// Too few samples to say anything: a failure of the run, not a pass.
    pub fn unjudged(&self) -> bool {
        self.kind != Kind::Data && self.n < MIN_SAMPLES
    }
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { f64::NAN } else { s / n as f64 }
}

/// The slope shared by segments, each with its own level, and the residuals' spread.
pub fn pooled_slope(points: &[Point]) -> (f64, f64) {
    let mut segs: Vec<u32> = points.iter().map(|p| p.seg).collect();
    segs.sort_unstable();
    segs.dedup();
    let centred: Vec<(f64, f64)> = segs
        .iter()
        .flat_map(|s| {
            let own: Vec<&Point> = points.iter().filter(|p| p.seg == *s).collect();
            let (mt, mv) = (mean(own.iter().map(|p| p.t)), mean(own.iter().map(|p| p.v)));
            own.into_iter().map(move |p| (p.t - mt, p.v - mv))
        })
        .collect();
    let sxx: f64 = centred.iter().map(|(t, _)| t * t).sum();
    let sxy: f64 = centred.iter().map(|(t, v)| t * v).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let dof = centred.len().saturating_sub(segs.len() + 1).max(1);
    let ss: f64 = centred.iter().map(|(t, v)| (v - slope * t).powi(2)).sum();
    (slope, (ss / dof as f64).sqrt())
}

/// Judges `series` over `[half, end]`, leaving out the points inside `excluded` windows.
pub fn judge(series: &Series, half: f64, end: f64, excluded: &[(f64, f64)]) -> Judged {
    let inside = |t: f64| excluded.iter().any(|(a, b)| t >= *a && t <= *b);
    let first: Vec<f64> = series
        .points
        .iter()
        .filter(|p| p.t < half)
        .map(|p| p.v)
        .collect();
    let last: Vec<Point> = series
        .points
        .iter()
        .filter(|p| p.t >= half && !inside(p.t))
        .copied()
        .collect();
    let (slope, spread) = pooled_slope(&last);
    let growth = slope * (end - half);
    let last_mean = mean(last.iter().map(|p| p.v));
    let bar = (SPREADS * spread)
        .max(SHARE * last_mean.abs())
        .max(series.kind.floor());
    Judged {
        name: series.name.clone(),
        kind: series.kind,
        first_mean: mean(first.into_iter()),
        last_mean,
        max: series.points.iter().map(|p| p.v).fold(f64::NAN, f64::max),
        growth,
        spread,
        bar,
        n: last.len(),
        grows: last.len() >= MIN_SAMPLES && growth > bar,
    }
}

fn num(x: f64) -> String {
    if !x.is_finite() {
        "—".to_owned()
    } else if x.abs() >= 100.0 || x == x.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// The markdown table of every judged series.
pub fn table(judged: &[Judged]) -> String {
    let mut out = String::from(
        "| resource | mean, first half | mean, last half | max | growth over the last half (fit) | noise (residual sd) | bar | samples | verdict |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for j in judged {
        let verdict = match (j.kind, j.grows) {
            (Kind::Data, _) => "grows by design (reported)",
            _ if j.unjudged() => "TOO FEW SAMPLES",
            (_, true) => "GROWS",
            (_, false) => "flat",
        };
        let bar = if j.kind == Kind::Data {
            "—".to_owned()
        } else {
            num(j.bar)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            j.name,
            num(j.first_mean),
            num(j.last_mean),
            num(j.max),
            signed(j.growth),
            num(j.spread),
            bar,
            j.n,
            verdict
        );
    }
    out
}

fn signed(x: f64) -> String {
    if x.is_finite() && x >= 0.0 {
        format!("+{}", num(x))
    } else {
        num(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(kind: Kind, f: impl Fn(f64) -> (f64, u32)) -> Series {
        let points = (0..180)
            .map(|i| {
                let t = f64::from(i);
                let (v, seg) = f(t);
                Point { t, v, seg }
            })
            .collect();
        Series {
            name: "x".into(),
            kind,
            points,
        }
    }

    /// A deterministic wobble in [-1, 1].
    fn wobble(t: f64) -> f64 {
        ((t * 12.9898).sin() * 43_758.547).fract() * 2.0 - 1.0
    }

    #[test]
    fn a_flat_noisy_series_is_flat_and_a_leak_grows() {
        let flat = series(Kind::Memory, |t| (40.0 + 3.0 * wobble(t), 0));
        let j = judge(&flat, 90.0, 180.0, &[]);
        assert!(!j.grows, "{j:?}");
        let leak = series(Kind::Memory, |t| (40.0 + t * 0.2 + wobble(t), 0));
        let j = judge(&leak, 90.0, 180.0, &[]);
        assert!(j.grows, "{j:?}");
        assert!((j.growth - 18.0).abs() < 2.0, "{j:?}");
    }

    #[test]
    fn a_restart_is_a_new_level_not_growth() {
        // Memory at 60 MB, a restart at 130 s back to 20 MB, flat in each segment.
        let s = series(
            Kind::Memory,
            |t| if t < 130.0 { (60.0, 0) } else { (20.0, 1) },
        );
        let j = judge(&s, 90.0, 180.0, &[]);
        assert!(j.growth.abs() < 1e-9 && !j.grows, "{j:?}");
    }

    #[test]
    fn a_purged_sawtooth_is_flat_wherever_it_is_cut() {
        for phase in 0..15 {
            let s = series(Kind::Rows, |t| {
                (2000.0 + 100.0 * ((t + f64::from(phase)) % 15.0), 0)
            });
            let j = judge(&s, 90.0, 180.0, &[]);
            assert!(!j.grows, "phase {phase}: {j:?}");
        }
    }

    #[test]
    fn fault_windows_are_left_out_and_data_is_never_judged() {
        // A backlog building from 150 s to the end: growth, unless the window covers it.
        let backlog = series(Kind::Messages, |t| (100.0 * (t - 150.0).max(0.0), 0));
        assert!(judge(&backlog, 90.0, 180.0, &[]).grows);
        let j = judge(&backlog, 90.0, 180.0, &[(149.0, 180.0)]);
        assert!(!j.grows && !j.unjudged(), "{j:?}");
        let j = judge(&backlog, 90.0, 180.0, &[(95.0, 180.0)]);
        assert!(j.unjudged(), "{j:?}");
        let data = series(Kind::Data, |t| (t * 100.0, 0));
        let j = judge(&data, 90.0, 180.0, &[]);
        assert!(!j.grows);
        assert!(table(&[j]).contains("grows by design"));
    }

    #[test]
    fn the_servers_threads_may_fill_the_pools_but_not_leak() {
        // The CI run that failed: 30 threads, stepping up by 14 as the pools reconnect.
        let step = |kind| series(kind, |t| (if t < 140.0 { 30.0 } else { 44.0 }, 0));
        assert!(judge(&step(Kind::Threads), 90.0, 180.0, &[]).grows);
        assert!(!judge(&step(Kind::ServerPerConnection), 90.0, 180.0, &[]).grows);
        // One more thread a second is a leak whatever the pools' bound.
        let leak = series(Kind::ServerPerConnection, |t| (30.0 + t, 0));
        assert!(judge(&leak, 90.0, 180.0, &[]).grows);
    }
}
