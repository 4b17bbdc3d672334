//! What a TCP server is told to do, the handle that stops it, and the lines both
//! models print about it. `tcp_server` starts the model a config names.

use crate::error::NetError;
use crate::log::Log;
use labproto::Proto;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How the server handles its clients (the point of exercises 2 and 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// One thread per client (serverTCP.py).
    Threads,
    /// One thread, one event loop, one token per connection (serverTCPsel.py).
    Selector,
}

/// Everything a TCP server needs to know.
#[derive(Debug, Clone)]
pub struct TcpServerConfig {
    pub model: Model,
    pub proto: Proto,
    pub bind: SocketAddr,
    pub echo: bool,
    /// Largest v3 size field accepted.
    pub max_size: u32,
    /// Threads model: at most this many clients served at once.
    pub max_clients: Option<usize>,
    /// Selector model: echo bytes a client may leave unread before it is closed.
    pub max_pending: usize,
    pub log: Log,
}

impl TcpServerConfig {
    /// Defaults of the command line, on `bind`.
    pub fn new(model: Model, proto: Proto, bind: SocketAddr, log: Log) -> TcpServerConfig {
        TcpServerConfig {
            model,
            proto,
            bind,
            echo: true,
            max_size: labproto::DEFAULT_MAX_SIZE,
            max_clients: None,
            max_pending: DEFAULT_MAX_PENDING,
            log,
        }
    }
}

/// Default `--max-pending`: 4 MiB of unread echoes per connection.
pub const DEFAULT_MAX_PENDING: usize = 4 * 1024 * 1024;

/// How often blocked loops look at the stop flag.
pub const STOP_CHECK: Duration = Duration::from_millis(100);

/// A running server: its address, and a way to stop it and wait for it.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<(), NetError>>,
}

impl ServerHandle {
    pub(crate) fn new(
        local_addr: SocketAddr,
        stop: Arc<AtomicBool>,
        thread: JoinHandle<Result<(), NetError>>,
    ) -> ServerHandle {
        ServerHandle {
            local_addr,
            stop,
            thread,
        }
    }

    /// The address actually bound (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Ask the server to stop, then wait until every connection is closed.
    pub fn stop(self) -> Result<(), NetError> {
        self.stop.store(true, Ordering::SeqCst);
        self.wait()
    }

    /// Wait until the server stops (its stop flag is set, e.g. by Ctrl-C).
    pub fn wait(self) -> Result<(), NetError> {
        self.thread.join().map_err(|_| NetError::ServerPanicked)?
    }
}

/// The one-line summary both models print when a connection ends.
pub fn close_summary(closed_by: &str, conn: &crate::connection::Connection) -> String {
    let messages = counted(conn.messages, "message", "messages");
    format!(
        "closed by {closed_by}: {} bytes in ({messages}), {} bytes out",
        conn.bytes_in, conn.bytes_out
    )
}

/// `1 message`, `0 messages`, `2 messages`.
pub fn counted(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How the server describes what it is about to serve.
pub fn banner(config: &TcpServerConfig, local: SocketAddr) -> String {
    format!(
        "listening on {local} (tcp, {} model, {} protocol, {})",
        match config.model {
            Model::Threads => "threads",
            Model::Selector => "selector",
        },
        config.proto,
        if config.echo { "echo" } else { "no echo" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_singular_only_for_one() {
        assert_eq!(counted(0u64, "message", "messages"), "0 messages");
        assert_eq!(counted(1u64, "message", "messages"), "1 message");
        assert_eq!(
            counted(2u64, "client connection", "client connections"),
            "2 client connections"
        );
    }
}
