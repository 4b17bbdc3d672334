//! The progress bar shown on stderr while a large capture file is read.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-based bar on stderr (indicatif draws nothing when stderr is not a terminal).
pub fn bar(total_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "reading {bytes}/{total_bytes} [{bar:30}] {percent}% ({bytes_per_sec}, {eta} left)",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
