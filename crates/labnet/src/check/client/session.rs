//! What one conversation with the student's client showed: the bytes and messages it
//! sent, the echoes it was given, and how it ended. The peer fills it in; the checks
//! read it.

use labproto::mistakes::stream::Reading;
use std::net::SocketAddr;
use std::time::Duration;

/// One message the client sent.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    pub(super) order: u64,
    pub(super) size: u64,
    /// Payload bytes used (v2: up to the NUL padding).
    pub(super) payload: usize,
    pub(super) bytes: Vec<u8>,
}

/// Everything one conversation showed.
#[derive(Debug, Default)]
pub(super) struct Session {
    pub(super) peer: Option<SocketAddr>,
    pub(super) accepted_after: Duration,
    pub(super) received: Vec<u8>,
    pub(super) messages: Vec<Sent>,
    /// The best reading of every byte the client sent (binary protocols), and the
    /// lab's own reading of them, from labproto's `mistakes::stream`.
    pub(super) reading: Option<Reading>,
    pub(super) lab: Option<Reading>,
    /// Bytes that never made a whole message, and why.
    pub(super) unframed: Option<String>,
    pub(super) echoes: usize,
    pub(super) echo_bytes: usize,
    /// The connection was reset (or writing an echo failed): what happened.
    pub(super) reset: Option<String>,
    /// Writing an echo failed: later echoes are not attempted, but what the client
    /// sent before its RST is still read and checked.
    pub(super) echo_failed: bool,
    /// The client closed (FIN) after this long.
    pub(super) fin_after: Option<Duration>,
    pub(super) timed_out: bool,
}
