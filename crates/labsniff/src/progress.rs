//! The progress bar shown on stderr while a large capture file is read.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::OnceLock;

/// A byte-based bar on stderr, made when labfacts starts reading a file large enough
/// to want one (indicatif draws nothing when stderr is not a terminal).
#[derive(Debug, Default)]
pub struct Bar(OnceLock<ProgressBar>);

fn bar(total_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "reading {bytes}/{total_bytes} [{bar:30}] {percent}% ({bytes_per_sec}, {eta} left)",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

impl labfacts::Progress for Bar {
    fn start(&self, total_bytes: u64) {
        self.0.get_or_init(|| bar(total_bytes));
    }
    fn at(&self, bytes: u64) {
        // Drawing is rate-limited by indicatif; the atomic store is cheap.
        if let Some(bar) = self.0.get() {
            bar.set_position(bytes);
        }
    }
    fn finish(&self) {
        if let Some(bar) = self.0.get() {
            bar.finish_and_clear();
        }
    }
}
