//! What a TCP server is told to do, and the handle that stops it.

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

/// Bind and start a TCP server in the background; it stops when `stop` is set.
pub fn start_tcp_server(
    config: TcpServerConfig,
    stop: Arc<AtomicBool>,
) -> Result<ServerHandle, NetError> {
    match config.model {
        Model::Threads => crate::tcp_threads::start(config, stop),
        Model::Selector => crate::tcp_selector::start(config, stop),
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
    use labproto::Message;
    use std::io::{Read, Write};

    /// The library API: start on port 0 in-process, talk to it, stop it, read its log.
    #[test]
    fn in_process_servers_echo_and_stop() {
        for model in [Model::Threads, Model::Selector] {
            let (log, lines) = Log::memory(false);
            let config =
                TcpServerConfig::new(model, Proto::V3, "127.0.0.1:0".parse().unwrap(), log);
            let stop = Arc::new(AtomicBool::new(false));
            let server = start_tcp_server(config, stop).unwrap();
            let addr = server.local_addr();
            assert_ne!(addr.port(), 0);
            let wire = Message::new(Proto::V3, 1, 1, b"in process")
                .unwrap()
                .encode();
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(&wire).unwrap();
            let mut echo = vec![0u8; wire.len()];
            s.read_exact(&mut echo).unwrap();
            assert_eq!(echo, wire);
            drop(s);
            std::thread::sleep(Duration::from_millis(100));
            server.stop().unwrap();
            let lines = lines.lock().unwrap();
            assert!(
                lines
                    .iter()
                    .any(|l| l
                        .contains("received v3 version=1 order=1 size=10 payload=\"in process\"")),
                "{model:?}: {lines:?}"
            );
            assert!(
                lines
                    .last()
                    .unwrap()
                    .ends_with(&format!("stopped listening on {addr}")),
                "{model:?}: {lines:?}"
            );
        }
    }
}
