//! `labnet check client`: act as the lab server for a student's client. Echoes go back
//! adversarially (the first split inside its header with a pause, the second split in
//! the middle, later ones coalesced when the client sends several at once), and what
//! the client sent is checked: layout, order numbers, size fields, a clean close, and
//! whether it read every echo whole.
//!
//! "Read every echo whole" is judged by the client's kernel: a socket closed with
//! unread bytes in its receive buffer answers with RST instead of FIN (RFC 2525 §2.17),
//! and so does one that already closed when an echo arrives.
//!
//! - `listen`: the port, and the one connection accepted on it.
//! - `program`: the student's program, when the check runs it.
//! - `peer`: the adversarial server for that connection; where the client's messages
//!   end comes from labproto's `mistakes::stream` (every packing read over all bytes).
//! - `session`: what the conversation showed.
//! - `checks`: the verdicts, from the session.

mod checks;
mod listen;
mod peer;
mod program;
mod session;

use crate::check::CheckResult;
use crate::error::NetError;
use labproto::Proto;
use listen::Listening;
use program::Program;
use session::Session;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Hex bytes shown per evidence string.
const HEX: usize = 32;
/// After the connection ends, how long the program may take to exit.
const EXIT: Duration = Duration::from_secs(2);

/// What to check and how long to wait.
#[derive(Debug, Clone)]
pub struct ClientCheck {
    pub proto: Proto,
    pub bind: SocketAddr,
    /// The student's program; `{port}` in an argument is replaced by the port listened
    /// on. Empty: wait for a client started by hand.
    pub command: Vec<String>,
    /// For the client to connect, and for the whole conversation.
    pub timeout: Duration,
    /// The client's own output goes to the terminal (its prompts, the echoes it
    /// prints); false under `--json`, whose stdout is for programs.
    pub show_output: bool,
    /// The server's address for the client, in `$LAB_IP` (`--net`); None: unset.
    pub env_ip: Option<String>,
}

/// Listen, run the student's program (if any), serve one connection, judge it.
pub fn run(c: &ClientCheck) -> Result<Vec<CheckResult>, NetError> {
    let mut listening = Listening::bind(c.bind)?;
    let addr = listening.addr;
    let started = Instant::now();
    let mut program = if c.command.is_empty() {
        eprintln!(
            "labnet check client: waiting {} s for your {} client on {addr}",
            c.timeout.as_secs(),
            c.proto
        );
        None
    } else {
        Some(Program::start(
            &c.command,
            addr.port(),
            listening.waker(),
            c.show_output,
            c.env_ip.as_deref(),
        )?)
    };
    let deadline = started + c.timeout;
    let stream = listening.accept_one(deadline)?;
    let mut session = Session::default();
    if let Some(s) = stream {
        session.accepted_after = started.elapsed();
        peer::serve(c.proto, s, deadline, &mut session);
    }
    let exit = program
        .as_mut()
        .map(|p| (p.exit_code(EXIT), p.last_error()));
    Ok(checks::judge(c, &session, exit, addr))
}
