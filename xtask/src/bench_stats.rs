//! The summaries every bench table shares: one command's runs ([`Row`]) and their
//! medians, and how many runs `BENCH_RUNS` asks for.

use crate::measure::Measured;

/// One command's runs.
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) runs: Vec<Measured>,
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

impl Row {
    pub(crate) fn wall(&self) -> f64 {
        median(self.runs.iter().map(|m| m.wall.as_secs_f64()).collect())
    }
    pub(crate) fn cpu(&self) -> f64 {
        median(self.runs.iter().map(|m| m.cpu_secs).collect())
    }
    pub(crate) fn cpu_range(&self) -> (f64, f64) {
        let cpus = self.runs.iter().map(|m| m.cpu_secs);
        (
            cpus.clone().fold(f64::INFINITY, f64::min),
            cpus.fold(0.0, f64::max),
        )
    }
    pub(crate) fn rss_mb(&self) -> f64 {
        self.runs.iter().map(|m| m.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }
}

/// How many runs `BENCH_RUNS` asks for (default 3, at least 1).
pub(crate) fn runs_arg(v: Option<String>) -> usize {
    v.and_then(|s| s.parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(3)
}
