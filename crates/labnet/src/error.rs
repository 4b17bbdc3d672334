//! Runtime errors of labnet's programs, each saying what failed and where.

use std::io;
use std::net::SocketAddr;

/// A failure that stops a server, client or benchmark (exit code: [`NetError::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot bind {addr}: {}", plain(source))]
    Bind { addr: SocketAddr, source: io::Error },
    #[error(
        "cannot bind {addr}: address already in use: {}; stop it, or give this server another \
         port (--port {}, and the same --port to its clients)",
        match holder {
            Some(h) => format!("process {} ({}) has it", h.pid, h.command),
            None => format!(
                "another program has it (ss -{}lnp 'sport = :{}' shows which)",
                if *udp { "u" } else { "t" },
                addr.port()
            ),
        },
        addr.port().wrapping_add(1).max(1)
    )]
    BindInUse {
        addr: SocketAddr,
        udp: bool,
        holder: Option<crate::holder::Holder>,
    },
    #[error("cannot connect to {addr}: {}", plain(source))]
    Connect { addr: SocketAddr, source: io::Error },
    #[error("{what} on {addr} failed: {}", plain(source))]
    Io {
        what: &'static str,
        addr: SocketAddr,
        source: io::Error,
    },
    #[error("cannot read standard input: {}", plain(source))]
    Stdin { source: io::Error },
    #[error("no echo from {addr} within {timeout_ms} ms ({received} of {expected} bytes arrived)")]
    EchoTimeout {
        addr: SocketAddr,
        timeout_ms: u128,
        received: usize,
        expected: usize,
    },
    #[error(
        "{addr} closed the connection before echoing ({received} of {expected} bytes arrived)"
    )]
    EchoCut {
        addr: SocketAddr,
        received: usize,
        expected: usize,
    },
    #[error("the echo from {addr} is not a valid lab message: {source}")]
    BadEcho {
        addr: SocketAddr,
        source: labproto::Error,
    },
    #[error("message {order} cannot be encoded: {source}")]
    Encode { order: u32, source: labproto::Error },
    #[error("cannot set up the event loop: {}", plain(source))]
    Poll { source: io::Error },
    #[error("the server thread stopped unexpectedly (it panicked)")]
    ServerPanicked,
    #[error(
        "benchmark failed: {mismatches} echoes differed from what was sent, \
         {errors} connections failed, {missing} messages never echoed"
    )]
    BenchFailed {
        mismatches: u64,
        errors: u64,
        missing: u64,
    },
    /// netlab cannot run here: not root, no namespaces, a missing tool.
    #[error("{0}")]
    NetlabNeeds(String),
    /// netlab: the lab is not up (status, exec, set) or already up (up).
    #[error("{0}")]
    NetlabState(String),
    /// netlab: setting up or talking to the lab failed.
    #[error("{0}")]
    Netlab(String),
    /// `labnet check`: some checks failed (the table or JSON says which).
    #[error("{failed} of {total} checks failed")]
    CheckFailed { failed: usize, total: usize },
    /// A value the command line could not check by itself (e.g. rates adding to over 100%).
    #[error("{0}")]
    Usage(String),
}

/// Exit codes, one per kind of failure a user fixes differently (EXIT_CODES.md).
pub mod exit {
    /// Any other runtime failure.
    pub const RUNTIME: u8 = 1;
    /// The command line is wrong.
    pub const USAGE: u8 = 2;
    /// The port is taken by another program (another server still running?).
    pub const ADDRESS_IN_USE: u8 = 3;
    /// The OS refused: a port below 1024 without root, a firewall rule.
    pub const PERMISSION_DENIED: u8 = 4;
    /// The address to bind is not one of this machine's.
    pub const ADDRESS_NOT_AVAILABLE: u8 = 5;
    /// The server could not be reached (refused, unreachable, timed out).
    pub const CANNOT_CONNECT: u8 = 6;
    /// Connected, but the echo was missing, cut or not a lab message.
    pub const BAD_ECHO: u8 = 7;
    /// The benchmark ran but echoes were wrong or missing.
    pub const BENCH_FAILED: u8 = 8;
    /// netlab needs what is missing here: root, network namespaces, ip or ethtool.
    pub const NETLAB_NEEDS: u8 = 9;
    /// netlab: the lab is not up (or, for `up`, already up).
    pub const NETLAB_STATE: u8 = 10;
    /// `labnet check` ran, and at least one check failed.
    pub const CHECK_FAILED: u8 = 11;
}

impl NetError {
    /// The process exit code for this failure (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        use io::ErrorKind as K;
        match self {
            NetError::Bind { source, .. } => match source.kind() {
                K::AddrInUse => exit::ADDRESS_IN_USE,
                K::PermissionDenied => exit::PERMISSION_DENIED,
                K::AddrNotAvailable => exit::ADDRESS_NOT_AVAILABLE,
                _ => exit::RUNTIME,
            },
            NetError::BindInUse { .. } => exit::ADDRESS_IN_USE,
            NetError::Connect { source, .. } => match source.kind() {
                K::PermissionDenied => exit::PERMISSION_DENIED,
                _ => exit::CANNOT_CONNECT,
            },
            NetError::EchoTimeout { .. } | NetError::EchoCut { .. } | NetError::BadEcho { .. } => {
                exit::BAD_ECHO
            }
            NetError::BenchFailed { .. } => exit::BENCH_FAILED,
            NetError::NetlabNeeds(_) => exit::NETLAB_NEEDS,
            NetError::NetlabState(_) => exit::NETLAB_STATE,
            NetError::Usage(_) => exit::USAGE,
            NetError::CheckFailed { .. } => exit::CHECK_FAILED,
            _ => exit::RUNTIME,
        }
    }
}

/// The OS error in plain lowercase words, without the `(os error 98)` suffix.
pub fn plain(error: &io::Error) -> String {
    use io::ErrorKind as K;
    let text = match error.kind() {
        K::AddrInUse => "address already in use",
        K::AddrNotAvailable => "address not available on this machine",
        K::PermissionDenied => "permission denied",
        K::ConnectionRefused => "connection refused (is the server running on that port?)",
        K::ConnectionReset => "connection reset by peer",
        K::ConnectionAborted => "connection aborted",
        K::BrokenPipe => "broken pipe (the peer closed the connection)",
        K::TimedOut => "timed out",
        K::WouldBlock => "timed out",
        K::UnexpectedEof => "the peer closed the connection",
        _ => {
            let text = error.to_string();
            return match text.find(" (os error") {
                Some(cut) => text[..cut].to_lowercase(),
                None => text,
            };
        }
    };
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_error_is_one_plain_line() {
        let e = NetError::Bind {
            addr: "0.0.0.0:5005".parse().unwrap(),
            source: io::Error::from_raw_os_error(libc::EADDRINUSE),
        };
        assert_eq!(
            e.to_string(),
            "cannot bind 0.0.0.0:5005: address already in use"
        );
    }

    #[test]
    fn in_use_names_the_holder_and_another_port() {
        let e = NetError::BindInUse {
            addr: "0.0.0.0:5005".parse().unwrap(),
            udp: false,
            holder: Some(crate::holder::Holder {
                pid: 4321,
                command: "python3 serverTCP.py".into(),
            }),
        };
        assert_eq!(
            e.to_string(),
            "cannot bind 0.0.0.0:5005: address already in use: process 4321 (python3 serverTCP.py) \
             has it; stop it, or give this server another port (--port 5006, and the same --port \
             to its clients)"
        );
        let e = NetError::BindInUse {
            addr: "0.0.0.0:5005".parse().unwrap(),
            udp: true,
            holder: None,
        };
        assert!(e
            .to_string()
            .contains("another program has it (ss -ulnp 'sport = :5005' shows which)"));
        assert_eq!(e.exit_code(), exit::ADDRESS_IN_USE);
    }

    #[test]
    fn other_os_errors_lose_the_errno_suffix() {
        let e = io::Error::from_raw_os_error(libc::ENETUNREACH);
        assert_eq!(plain(&e), "network is unreachable");
    }
}
