//! labnet: the sockets lab's servers and clients, speaking exactly the bytes of the
//! Python originals (UDP text; TCP text, v2 `!BII20s`, v3 `!BII` + payload).
//!
//! The library exists so tests can start servers in-process on port 0:
//! [`start_tcp_server`] returns a [`ServerHandle`] with `local_addr()` and `stop()`.

pub mod app;
pub mod bench;
pub mod check;
pub mod cli;
pub mod client;
pub mod connection;
pub mod error;
pub mod holder;
pub mod log;
pub mod netlab;
pub mod rlimit;
pub mod server;
pub mod sockets;
pub mod tcp_selector;
pub mod tcp_server;
pub mod tcp_threads;
pub mod trace_events;
pub mod udp;

pub use error::NetError;
pub use server::{Model, ServerHandle, TcpServerConfig};
pub use tcp_server::start_tcp_server;
pub use udp::start_udp_server;
