//! The impairment `check --net` asks of its network run: plain settings, read by the
//! run (`net`) and by the explanations of what differed (`compare`).

use crate::netlab::settings::Settings;

/// The impairment of the network run.
#[derive(Debug, Clone, Copy)]
pub struct NetOptions {
    /// One-way delay in each direction, ms.
    pub delay_ms: f64,
    /// Random loss of IP frames, percent, each direction.
    pub loss_pct: f64,
    /// Seed of the loss: the n-th frame of a direction has the same fate every run.
    pub seed: u64,
}

impl NetOptions {
    pub(super) fn settings(self) -> Settings {
        Settings {
            delay_ms: self.delay_ms,
            loss_pct: self.loss_pct,
            seed: self.seed,
            ..Settings::default()
        }
    }
}
