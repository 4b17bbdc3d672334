//! The adversarial lab server `labnet check client` plays for one connection: it
//! reads what the student's client sends, frames it (the lab's layout or the one the
//! client's `struct` mistake implies), and echoes it back the hard way: the first
//! echo split inside its header with a pause, the second split in the middle, later
//! ones coalesced when the client sends several messages at once. Everything it sees
//! goes into the [`Session`] the checks read.

use super::session::{Sent, Session};
use crate::check::battery::SPLIT_PAUSE;
use crate::check::probe::ms;
use crate::error::plain;
use labproto::mistakes::stream;
use labproto::Proto;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// After the client's FIN, how long a late RST is waited for.
const LATE_RST: Duration = Duration::from_millis(200);
/// With bytes not yet echoed, a client silent this long probably waits for an echo.
const STALL: Duration = Duration::from_millis(250);
/// Largest message accepted from the client (as labnet's servers).
const MAX_SIZE: u32 = labproto::DEFAULT_MAX_SIZE;

/// Serve the connection until the client closes, resets, or the deadline passes.
pub(super) fn serve(proto: Proto, mut s: TcpStream, deadline: Instant, session: &mut Session) {
    let opened = Instant::now();
    session.peer = s.peer_addr().ok();
    let _ = s.set_nonblocking(false);
    let _ = s.set_nodelay(true);
    let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
    let mut framing = Framing::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let pending = session.received.len() > framing.echoed;
        let stall = (pending && proto != Proto::Text).then_some(STALL);
        let go_on = match read_some(&mut s, &mut chunk, deadline, stall, opened, session) {
            Got::Bytes(n) => {
                session.received.extend_from_slice(&chunk[..n]);
                if proto == Proto::Text {
                    echo_text(&mut s, session, &chunk[..n])
                } else {
                    framing.echo_messages(proto, &mut s, session, false)
                }
            }
            Got::Stalled => framing.echo_messages(proto, &mut s, session, true),
            Got::Fin => break,
            Got::Interrupted => true,
            Got::End => false,
        };
        if !go_on {
            finish(proto, session);
            return;
        }
    }
    finish(proto, session);
    note_late_rst(&mut s, session);
}

/// What one read brought.
enum Got {
    Bytes(usize),
    /// The client closed its side (FIN).
    Fin,
    /// A signal interrupted the read: read again.
    Interrupted,
    /// Nothing came for the stall time asked for (the deadline has not passed).
    Stalled,
    /// The deadline passed or the connection was reset: stop serving.
    End,
}

/// Read once, within what is left of the deadline (or `stall`, when shorter); a
/// timeout or a reset is noted in the session.
fn read_some(
    s: &mut TcpStream,
    chunk: &mut [u8],
    deadline: Instant,
    stall: Option<Duration>,
    opened: Instant,
    session: &mut Session,
) -> Got {
    let left = deadline.saturating_duration_since(Instant::now());
    let wait = stall.map_or(left, |st| st.min(left));
    if left.is_zero() || s.set_read_timeout(Some(wait)).is_err() {
        session.timed_out = true;
        return Got::End;
    }
    match s.read(chunk) {
        Ok(0) => {
            session.fin_after = Some(opened.elapsed());
            Got::Fin
        }
        Ok(n) => Got::Bytes(n),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            if wait < left {
                return Got::Stalled;
            }
            session.timed_out = true;
            Got::End
        }
        Err(e) if e.kind() == ErrorKind::Interrupted => Got::Interrupted,
        Err(e) => {
            if session.reset.is_none() {
                session.reset = Some(format!(
                    "the connection was reset (RST) {} after it opened ({e})",
                    ms(opened.elapsed())
                ));
            }
            Got::End
        }
    }
}

/// Text has no boundaries to split at: a client cannot tell a split echo from two
/// echoes, so text is echoed as it came, each read one message. False: stop serving.
fn echo_text(s: &mut TcpStream, session: &mut Session, bytes: &[u8]) -> bool {
    let echo = bytes.to_vec();
    session.messages.push(Sent {
        order: 0,
        size: bytes.len() as u64,
        payload: bytes.len(),
        bytes: echo.clone(),
    });
    write_echo(s, session, &echo, false)
}

/// How far the client's binary messages were echoed. The framing is not chosen once
/// from the first bytes: at every read every packing labproto knows is read over ALL
/// the bytes so far, and the best reading says where the whole messages end (the
/// first message alone can read as the lab's when it is not).
#[derive(Default)]
struct Framing {
    /// Bytes echoed so far.
    echoed: usize,
}

impl Framing {
    /// Echo every whole message now buffered, as the best reading frames them, in one
    /// write (coalesced). `stalled`: the client sent nothing for [`STALL`] with bytes
    /// pending, so it probably waits for an echo: judge what came as if it were all.
    /// False: stop serving (nothing explains the bytes and nothing is left to echo).
    fn echo_messages(
        &mut self,
        proto: Proto,
        s: &mut TcpStream,
        session: &mut Session,
        stalled: bool,
    ) -> bool {
        let readings = stream::judge(proto, &session.received, MAX_SIZE, stalled);
        let Some(best) = readings.first() else {
            return true;
        };
        if best.consumed <= self.echoed {
            if stalled && !best.explains_all() {
                session.unframed = Some(best.ending());
                return false;
            }
            return true;
        }
        if !stalled && !best.consistent() {
            // No reading fits yet: wait for more bytes (or the stall).
            return true;
        }
        let echo = session.received[self.echoed..best.consumed].to_vec();
        self.echoed = best.consumed;
        write_echo(s, session, &echo, true)
    }
}

/// At the end: the whole stream judged, its best reading's messages kept.
fn finish(proto: Proto, session: &mut Session) {
    if proto == Proto::Text {
        return;
    }
    let readings = stream::judge(proto, &session.received, MAX_SIZE, true);
    session.lab = readings.iter().find(|r| r.packing.is_lab()).cloned();
    let Some(best) = readings.into_iter().next() else {
        return;
    };
    session.messages = best
        .messages
        .iter()
        .map(|m| Sent {
            order: m.order,
            size: m.size,
            payload: m.used,
            bytes: session.received[m.offset..m.offset + m.len].to_vec(),
        })
        .collect();
    if !best.explains_all() && !session.received.is_empty() {
        session.unframed = Some(best.ending());
    }
    session.reading = Some(best);
}

/// A client that closed with echo bytes unread sends RST right after its FIN's place;
/// one short read sees it.
fn note_late_rst(s: &mut TcpStream, session: &mut Session) {
    let _ = s.set_read_timeout(Some(LATE_RST));
    let mut byte = [0u8; 1];
    if let Err(e) = s.read(&mut byte) {
        if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) {
            session.reset = Some(format!(
                "after its FIN the client's kernel answered the echo with RST ({e})"
            ));
        }
    }
}

/// Write one echo the adversarial way. Returns true (go on reading) even when the write
/// fails: the failure is kept in `session` (`echo_failed`, `reset`), and the bytes the
/// client sent before its RST are still queued to be read.
fn write_echo(s: &mut TcpStream, session: &mut Session, echo: &[u8], split: bool) -> bool {
    if session.echo_failed {
        return true;
    }
    // The first echo is split inside its header, the second in the middle; each pause
    // is long enough for the halves to arrive as two reads.
    let at = match session.echoes {
        0 if split && echo.len() > 4 => 4,
        1 if split && echo.len() > 1 => echo.len() / 2,
        _ => echo.len(),
    };
    let mut result = s.write_all(&echo[..at]);
    if result.is_ok() && at < echo.len() {
        std::thread::sleep(SPLIT_PAUSE);
        result = s.write_all(&echo[at..]);
    }
    session.echoes += 1;
    session.echo_bytes += echo.len();
    match result {
        Ok(()) => true,
        Err(e) => {
            session.reset = Some(format!(
                "writing echo {} failed: the client had closed and its kernel answered with \
                 RST ({})",
                session.echoes,
                plain(&e)
            ));
            session.echo_failed = true;
            // Keep reading: the bytes the client sent before its RST are still queued.
            true
        }
    }
}
