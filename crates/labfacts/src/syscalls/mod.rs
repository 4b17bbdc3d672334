//! System calls beside packets: read `strace -f -ttt -T -yy` traces (and labnet's
//! `--trace-events` JSON lines), follow each socket, and join its calls to the
//! capture's conversations by address and time.
//!
//! - [`parse`]: the line grammar, into plain records.
//! - [`read`]: streams a trace, pairs unfinished/resumed calls.
//! - [`calls`]: the plain facts of traced sockets and their calls.
//! - `follow`: one trace's fd table, socket by socket.
//! - `conv_index`: the capture's conversations by address and time.
//! - [`join`]: finished sockets to conversations.
//! - [`facts`]: what the joined calls prove, per conversation (no words: the report
//!   renders them).
//! - [`threads`]: which server thread served which client socket, and which readiness
//!   calls returned which of them (no words: `labsniff grade` says them).

pub mod calls;
mod conv_index;
pub mod facts;
mod follow;
pub mod join;
pub mod parse;
pub mod read;
pub mod threads;

pub use calls::{CloneCall, Op, Side, SockCall, SocketCalls, TraceSummary};
pub use join::{join, Joined, TraceInput};
pub use parse::Clock;

/// The exact command the lab's traces are expected from (README, SCHEMA.md).
pub const STRACE_COMMAND: &str = "strace -f -ttt -T -yy -e trace=%network,read,write,close,shutdown,select,poll,epoll_wait,epoll_ctl -o TRACE PROGRAM";
