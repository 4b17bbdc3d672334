//! Numbers in words: times relative to a capture's start (counts, durations and
//! thousands are in the parent module, shared by every view).

/// Seconds since `origin`, microsecond resolution: `0.000040`.
pub fn relative(ts: f64, origin: f64) -> String {
    let micros = ((ts - origin) * 1e6).round().max(0.0) as u64;
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}
