//! The adversarial lab server `labnet check client` plays for one connection: it
//! reads what the student's client sends, frames it (the lab's layout or the one the
//! client's `struct` mistake implies), and echoes it back the hard way: the first
//! echo split inside its header with a pause, the second split in the middle, later
//! ones coalesced when the client sends several messages at once. Everything it sees
//! goes into the [`Session`] the checks read.

use super::layout::{Layout, MAX_SIZE};
use super::session::{Sent, Session};
use super::HEX;
use crate::check::battery::SPLIT_PAUSE;
use crate::check::explain::mistake;
use crate::check::probe::{hex, ms};
use crate::error::plain;
use labproto::{v2, v3, Proto};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// After the client's FIN, how long a late RST is waited for.
const LATE_RST: Duration = Duration::from_millis(200);

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
        let n = match read_some(&mut s, &mut chunk, deadline, opened, session) {
            Got::Bytes(n) => n,
            Got::Fin => break,
            Got::Interrupted => continue,
            Got::End => return,
        };
        session.received.extend_from_slice(&chunk[..n]);
        let go_on = if proto == Proto::Text {
            echo_text(&mut s, session, &chunk[..n])
        } else {
            framing.echo_messages(proto, &mut s, session)
        };
        if !go_on {
            return;
        }
    }
    note_unframed(proto, session, framing.consumed);
    note_late_rst(&mut s, session);
}

/// What one read brought.
enum Got {
    Bytes(usize),
    /// The client closed its side (FIN).
    Fin,
    /// A signal interrupted the read: read again.
    Interrupted,
    /// The deadline passed or the connection was reset: stop serving.
    End,
}

/// Read once, within what is left of the deadline; a timeout or a reset is noted in
/// the session.
fn read_some(
    s: &mut TcpStream,
    chunk: &mut [u8],
    deadline: Instant,
    opened: Instant,
    session: &mut Session,
) -> Got {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() || s.set_read_timeout(Some(left)).is_err() {
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

/// How the client's binary messages are framed: the layout, chosen from its first
/// bytes, and how many received bytes made whole messages.
#[derive(Default)]
struct Framing {
    layout: Option<Layout>,
    consumed: usize,
}

impl Framing {
    /// Take every whole message now buffered and echo them in one write (coalesced).
    /// False: stop serving (a size over the limit).
    fn echo_messages(&mut self, proto: Proto, s: &mut TcpStream, session: &mut Session) -> bool {
        let Some(l) = self.layout(proto, session) else {
            return true;
        };
        let mut echo = Vec::new();
        loop {
            match l.frame_len(&session.received[self.consumed..]) {
                Ok(Some(len)) => {
                    let m = &session.received[self.consumed..self.consumed + len];
                    session.messages.push(sent(&l, m));
                    echo.extend_from_slice(m);
                    self.consumed += len;
                }
                Ok(None) => break,
                Err(size) => {
                    session.unframed = Some(format!(
                        "a header announced size {size}, over the {MAX_SIZE}-byte limit"
                    ));
                    return false;
                }
            }
        }
        echo.is_empty() || write_echo(s, session, &echo, true)
    }

    /// The layout, chosen once the first message's header (v2: the whole message) is
    /// in; None before that.
    fn layout(&mut self, proto: Proto, session: &mut Session) -> Option<Layout> {
        if self.layout.is_none() {
            let pending = &session.received[self.consumed..];
            let needed = if proto == Proto::V2 {
                v2::MESSAGE_LEN
            } else {
                v3::HEADER_LEN
            };
            if pending.len() < needed {
                return None;
            }
            session.mistake = mistake(proto, pending, false);
            self.layout = Some(match &session.mistake {
                Some(m) => Layout::of_mistake(proto, m),
                None => Layout::lab(proto),
            });
        }
        self.layout
    }
}

/// One framed message `m`, its fields read with the client's layout.
fn sent(l: &Layout, m: &[u8]) -> Sent {
    let payload_field = &m[l.header..];
    let used = payload_field
        .iter()
        .rposition(|&x| x != 0)
        .map_or(0, |i| i + 1);
    Sent {
        order: l.field(m, l.order),
        size: l.field(m, l.size),
        payload: if l.fixed.is_some() {
            used
        } else {
            payload_field.len()
        },
        bytes: m.to_vec(),
    }
}

/// After the client's FIN: bytes that never made a whole message, and why.
fn note_unframed(proto: Proto, session: &mut Session, consumed: usize) {
    let rest = &session.received[consumed..];
    if !rest.is_empty() && proto != Proto::Text {
        let why = match mistake(proto, rest, true) {
            Some(m) => m.to_string(),
            None => format!(
                "{} bytes ({}) never made a whole message",
                rest.len(),
                hex(rest, HEX)
            ),
        };
        session.unframed = Some(why);
    }
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
