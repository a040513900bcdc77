//! Measuring a run: where the time went, and the peak memory (`pal run --stats`, `pal bench`).

use std::fmt::Write as _;
use std::time::Duration;

/// Time spent in each phase of a run. In a streaming run reading overlaps evaluation, so the
/// phases can add up to more than the total.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Phases {
    /// Loading, parsing and checking the policy.
    pub load: Duration,
    /// Reading and validating the events (excluding time spent waiting for evaluation).
    pub read: Duration,
    /// Evaluating pathways (wall time, all threads), including encoding their results.
    pub evaluate: Duration,
    /// Writing results, the PTL and the summary.
    pub output: Duration,
    /// Wall time of the whole run.
    pub total: Duration,
}

impl Phases {
    /// A one-paragraph report: each phase, throughput and peak memory.
    pub fn report(&self, events: u64, pathways: u64, peak_rss: Option<u64>) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut s = format!(
            "stats: load {:.1} ms, read {:.1} ms, evaluate {:.1} ms, output {:.1} ms, total {:.1} ms",
            ms(self.load),
            ms(self.read),
            ms(self.evaluate),
            ms(self.output),
            ms(self.total)
        );
        let eval = self.evaluate.as_secs_f64();
        if eval > 0.0 && pathways > 0 {
            let _ = write!(
                s,
                "\nstats: {} events/s evaluated, {:.0} ns per pathway",
                thousands((events as f64 / eval) as u64),
                eval * 1e9 / pathways as f64
            );
        }
        if let Some(bytes) = peak_rss {
            let _ = write!(
                s,
                "\nstats: peak memory (RSS) {:.1} MiB",
                bytes as f64 / 1048576.0
            );
        }
        s
    }
}

/// Repeated timings of one measurement: median, fastest and slowest.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Spread {
    /// Timed repetitions (after warm-up).
    pub reps: usize,
    /// Median, in seconds.
    pub median_s: f64,
    /// Fastest, in seconds.
    pub min_s: f64,
    /// Slowest, in seconds.
    pub max_s: f64,
}

impl Spread {
    /// The spread of `samples` (seconds); all zero when empty.
    pub fn of(samples: &[f64]) -> Spread {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return Spread::default();
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Spread {
            reps: n,
            median_s: median,
            min_s: sorted[0],
            max_s: sorted[n - 1],
        }
    }

    /// `12.3 ms [12.1–12.9]`: median, then fastest and slowest, in a unit that suits.
    pub fn display(&self) -> String {
        let (scale, unit) = if self.max_s >= 10.0 {
            (1.0, "s")
        } else {
            (1000.0, "ms")
        };
        let f = |x: f64| {
            let v = x * scale;
            if v >= 100.0 {
                format!("{v:.0}")
            } else if v >= 10.0 {
                format!("{v:.1}")
            } else {
                format!("{v:.2}")
            }
        };
        format!(
            "{} {unit} [{}–{}]",
            f(self.median_s),
            f(self.min_s),
            f(self.max_s)
        )
    }
}

/// Runs `f` once to warm up (caches, allocator, lazily built tables), then `reps` times timed;
/// returns the spread and the last result.
pub fn time_reps<T>(reps: usize, mut f: impl FnMut() -> T) -> (Spread, T) {
    let mut last = f();
    let mut samples = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let t = std::time::Instant::now();
        last = std::hint::black_box(f());
        samples.push(t.elapsed().as_secs_f64());
    }
    (Spread::of(&samples), last)
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The process's peak resident memory so far (`VmHWM` on Linux); `None` where unknown.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_median_min_max() {
        let s = Spread::of(&[0.030, 0.010, 0.020]);
        assert_eq!(
            (s.reps, s.median_s, s.min_s, s.max_s),
            (3, 0.020, 0.010, 0.030)
        );
        assert_eq!(s.display(), "20.0 ms [10.0–30.0]");
        assert_eq!(Spread::of(&[1.0, 3.0]).median_s, 2.0);
        assert_eq!(Spread::of(&[]), Spread::default());
        assert_eq!(Spread::of(&[12.0, 15.5]).display(), "13.8 s [12.0–15.5]");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn report_mentions_every_phase() {
        let p = Phases {
            load: Duration::from_millis(5),
            read: Duration::from_millis(100),
            evaluate: Duration::from_millis(200),
            output: Duration::from_millis(50),
            total: Duration::from_millis(360),
        };
        let r = p.report(1_000_000, 100_000, Some(64 * 1048576));
        assert!(r.contains("evaluate 200.0 ms"), "{r}");
        assert!(r.contains("5,000,000 events/s"), "{r}");
        assert!(r.contains("2000 ns per pathway"), "{r}");
        assert!(r.contains("64.0 MiB"), "{r}");
    }
}
