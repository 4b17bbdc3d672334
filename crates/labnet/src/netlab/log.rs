//! The forwarder's ground truth: one JSON line per frame it handled, and the
//! counters `status` shows (the log's lines and the counters are bumped together,
//! so a test can check one against the other).

use super::frame::{Frame, Transport};
use super::impair::{Action, Decision, DropReason};
use super::settings::Dir;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// One log line.
#[derive(Debug, Serialize)]
struct Line<'a> {
    /// Unix time (s) the frame reached the forwarder: compare with the pcaps.
    ts: f64,
    dir: &'static str,
    /// IP frame number in this direction since `up` (0: not IP).
    n: u64,
    bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    ethertype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    src: Option<IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dst: Option<IpAddr>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    transport: Option<&'a Transport>,
    decision: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Time held in the forwarder before sending on, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    delay_ms: Option<f64>,
}

/// Per-direction counters.
#[derive(Debug, Default)]
pub struct DirCounters {
    pub frames: AtomicU64,
    pub ip_frames: AtomicU64,
    pub passed: AtomicU64,
    pub delayed: AtomicU64,
    pub dropped: AtomicU64,
    pub dropped_by_rule: AtomicU64,
    pub duplicated: AtomicU64,
    pub reordered: AtomicU64,
    /// Frames actually injected on the far side (duplicates count twice).
    pub sent: AtomicU64,
    /// The forwarder's own losses: injection failed, or the queue was full.
    pub send_errors: AtomicU64,
    pub queue_full: AtomicU64,
    /// Frames the kernel dropped before the reader got them (libpcap's ps_drop).
    pub kernel_drops: AtomicU64,
}

impl DirCounters {
    pub fn to_json(&self) -> serde_json::Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "frames": g(&self.frames),
            "ip_frames": g(&self.ip_frames),
            "passed": g(&self.passed),
            "delayed": g(&self.delayed),
            "dropped": g(&self.dropped),
            "dropped_by_rule": g(&self.dropped_by_rule),
            "duplicated": g(&self.duplicated),
            "reordered": g(&self.reordered),
            "sent": g(&self.sent),
            "send_errors": g(&self.send_errors),
            "queue_full": g(&self.queue_full),
            "kernel_drops": g(&self.kernel_drops),
        })
    }
}

/// The log file (flushed line by line so it is complete even after SIGKILL).
#[derive(Debug)]
pub struct FrameLog {
    out: BufWriter<File>,
}

fn now_unix() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl FrameLog {
    pub fn create(path: &std::path::Path) -> io::Result<FrameLog> {
        Ok(FrameLog {
            out: BufWriter::new(File::create(path)?),
        })
    }

    /// Log one decision and bump the counters that go with it.
    pub fn record(
        &mut self,
        dir: Dir,
        frame: &Frame,
        bytes: usize,
        d: &Decision,
        held_ms: f64,
        counters: &DirCounters,
    ) -> io::Result<()> {
        let bump = |c: &AtomicU64| c.fetch_add(1, Ordering::Relaxed);
        bump(&counters.frames);
        match d.action {
            Action::Pass => bump(&counters.passed),
            Action::Delay => bump(&counters.delayed),
            Action::Drop => bump(&counters.dropped),
            Action::Duplicate => bump(&counters.duplicated),
            Action::Reorder => bump(&counters.reordered),
        };
        let reason = d.reason.as_ref().map(|r| match r {
            DropReason::Loss => "loss".to_string(),
            DropReason::Rule(kind, count) => {
                bump(&counters.dropped_by_rule);
                format!("rule {}:{}:{count}", dir.name(), kind.name())
            }
        });
        let (ethertype, src, dst, transport) = match frame {
            Frame::Ip {
                src,
                dst,
                transport,
            } => {
                bump(&counters.ip_frames);
                (None, Some(*src), Some(*dst), Some(transport))
            }
            Frame::NonIp { ethertype } => (Some(format!("0x{ethertype:04x}")), None, None, None),
        };
        let line = Line {
            ts: now_unix(),
            dir: dir.name(),
            n: d.n,
            bytes,
            ethertype,
            src,
            dst,
            transport,
            decision: d.action.name(),
            reason,
            delay_ms: (d.action != Action::Drop && held_ms > 0.0)
                .then_some((held_ms * 1000.0).round() / 1000.0),
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// A line for the forwarder's own losses (queue full), outside the model.
    pub fn record_own_drop(&mut self, dir: Dir, n: u64, what: &str) -> io::Result<()> {
        let line = serde_json::json!({"ts": now_unix(), "dir": dir.name(), "n": n,
            "decision": "forwarder_drop", "reason": what});
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
