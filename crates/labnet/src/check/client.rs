//! `labnet check client`: act as the lab server for a student's client. Echoes go back
//! adversarially (the first split inside its header with a pause, the second split in
//! the middle, later ones coalesced when the client sends several at once), and what
//! the client sent is checked: layout, order numbers, size fields, a clean close, and
//! whether it read every echo whole.
//!
//! "Read every echo whole" is judged by the client's kernel: a socket closed with
//! unread bytes in its receive buffer answers with RST instead of FIN (RFC 2525 §2.17),
//! and so does one that already closed when an echo arrives.

use super::battery::{self, SPLIT_PAUSE};
use super::explain::{lab_format, mistake, mistake_fix};
use super::probe::{hex, ms};
use super::CheckResult;
use crate::error::NetError;
use crate::server::counted;
use labproto::mistakes::Mistake;
use labproto::native::{bii, bii20s, bll20s};
use labproto::{v2, v3, Proto};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::ops::Range;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Hex bytes shown per evidence string.
const HEX: usize = 32;
/// Largest message accepted from the client (as labnet's servers).
const MAX_SIZE: u64 = labproto::DEFAULT_MAX_SIZE as u64;
/// After the client's FIN, how long a late RST is waited for.
const LATE_RST: Duration = Duration::from_millis(200);
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
}

/// The student's program, killed when dropped (on every path).
struct Program {
    child: Child,
    /// The last lines it wrote to stderr.
    stderr: Arc<Mutex<Vec<String>>>,
    /// Says when its stderr closed (it exited, normally).
    gone: mpsc::Receiver<()>,
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Program {
    fn start(command: &[String], port: u16, waker: Arc<mio::Waker>) -> Result<Program, NetError> {
        let args: Vec<String> = command
            .iter()
            .map(|a| a.replace("{port}", &port.to_string()))
            .collect();
        let (program, rest) = args
            .split_first()
            .ok_or_else(|| NetError::Usage("no program to run after --".to_string()))?;
        let mut child = Command::new(program)
            .args(rest)
            .env("LAB_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| NetError::Usage(format!("cannot run '{program}': {e}")))?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (tx, gone) = mpsc::channel();
        if let Some(pipe) = child.stderr.take() {
            let lines = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                        if l.len() > 20 {
                            l.remove(0);
                        }
                    }
                }
                let _ = tx.send(());
                let _ = waker.wake();
            });
        }
        Ok(Program {
            child,
            stderr,
            gone,
        })
    }

    /// Wait (bounded) for the program to exit: its exit code, or None when it did not.
    fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let _ = self.gone.recv_timeout(within);
        let code = |s: std::process::ExitStatus| s.code().unwrap_or(-1);
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(code(status));
        }
        // The kernel closes a process's files (our stderr pipe's EOF) just before the
        // process becomes waitable: one short second look, not a polling loop.
        std::thread::sleep(Duration::from_millis(100));
        self.child.try_wait().ok().flatten().map(code)
    }

    fn last_error(&self) -> String {
        self.stderr
            .lock()
            .ok()
            .and_then(|l| l.last().cloned())
            .unwrap_or_default()
    }
}

/// Where the fields of a message sit, as the student's client packed them.
#[derive(Debug, Clone, Copy)]
struct Layout {
    header: usize,
    order: (usize, usize),
    size: (usize, usize),
    little: bool,
    /// v2-like: every message has this many bytes; v3-like: header + size.
    fixed: Option<usize>,
}

impl Layout {
    /// The lab's own layout, from labproto's `v2::field` and `v3::field` (text is
    /// never framed; it is given v3's).
    fn lab(proto: Proto) -> Layout {
        match proto {
            Proto::V2 => Layout {
                header: v2::field::PAYLOAD.start,
                order: span(v2::field::ORDER),
                size: span(v2::field::SIZE),
                little: false,
                fixed: Some(v2::MESSAGE_LEN),
            },
            Proto::V3 | Proto::Text => Layout {
                header: v3::HEADER_LEN,
                order: span(v3::field::ORDER),
                size: span(v3::field::SIZE),
                little: false,
                fixed: None,
            },
        }
    }

    /// The layout a recognised struct mistake implies, so the messages can still be
    /// framed, echoed and checked the student's way (labproto's `native` offsets).
    fn of_mistake(proto: Proto, m: &Mistake) -> Layout {
        match m {
            Mistake::NativeAlignment {
                format: bll20s::FORMAT,
                ..
            } => Layout {
                header: bll20s::PAYLOAD.start,
                order: span(bll20s::ORDER),
                size: span(bll20s::SIZE),
                little: true,
                fixed: Some(bll20s::MESSAGE_LEN),
            },
            Mistake::NativeAlignment {
                format: bii20s::FORMAT,
                ..
            } => Layout {
                header: bii20s::PAYLOAD.start,
                order: span(bii20s::ORDER),
                size: span(bii20s::SIZE),
                little: true,
                fixed: Some(bii20s::MESSAGE_LEN),
            },
            Mistake::NativeAlignment { .. } => Layout {
                header: bii::HEADER_LEN,
                order: span(bii::ORDER),
                size: span(bii::SIZE),
                little: true,
                fixed: None,
            },
            Mistake::LittleEndian { .. } => Layout {
                little: true,
                ..Layout::lab(proto)
            },
            Mistake::SizeMismatch { .. } => Layout::lab(proto),
        }
    }

    fn field(&self, b: &[u8], (at, width): (usize, usize)) -> u64 {
        let bytes = &b[at..at + width];
        let fold = |acc: u64, &x: &u8| (acc << 8) | u64::from(x);
        if self.little {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        }
    }

    /// Length of the whole message at the front of `b`; None: need more; Err: its
    /// size field is over the limit.
    fn frame_len(&self, b: &[u8]) -> Result<Option<usize>, u64> {
        if b.len() < self.header {
            return Ok(None);
        }
        let len = match self.fixed {
            Some(n) => n,
            None => {
                let size = self.field(b, self.size);
                if size > MAX_SIZE {
                    return Err(size);
                }
                self.header + size as usize
            }
        };
        Ok((b.len() >= len).then_some(len))
    }
}

/// A field's byte range as (offset, width).
fn span(range: Range<usize>) -> (usize, usize) {
    (range.start, range.len())
}

/// One message the client sent.
#[derive(Debug, Clone)]
struct Sent {
    order: u64,
    size: u64,
    /// Payload bytes used (v2: up to the NUL padding).
    payload: usize,
    bytes: Vec<u8>,
}

/// Everything one conversation showed.
#[derive(Debug, Default)]
struct Session {
    peer: Option<SocketAddr>,
    accepted_after: Duration,
    received: Vec<u8>,
    messages: Vec<Sent>,
    mistake: Option<Mistake>,
    /// Bytes that never made a whole message, and why.
    unframed: Option<String>,
    echoes: usize,
    echo_bytes: usize,
    /// The connection was reset (or writing an echo failed): what happened.
    reset: Option<String>,
    /// Writing an echo failed: later echoes are not attempted, but what the client
    /// sent before its RST is still read and checked.
    echo_failed: bool,
    /// The client closed (FIN) after this long.
    fin_after: Option<Duration>,
    timed_out: bool,
}

/// Listen, run the student's program (if any), serve one connection, judge it.
pub fn run(c: &ClientCheck) -> Result<Vec<CheckResult>, NetError> {
    let listener = std::net::TcpListener::bind(c.bind).map_err(|source| NetError::Bind {
        addr: c.bind,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| NetError::Io {
        what: "reading the listening address",
        addr: c.bind,
        source,
    })?;
    let io = |source| NetError::Poll { source };
    let mut poll = mio::Poll::new().map_err(io)?;
    listener.set_nonblocking(true).map_err(io)?;
    let mut listener = mio::net::TcpListener::from_std(listener);
    const LISTENER: mio::Token = mio::Token(0);
    const WAKER: mio::Token = mio::Token(1);
    poll.registry()
        .register(&mut listener, LISTENER, mio::Interest::READABLE)
        .map_err(io)?;
    let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(io)?);
    let started = Instant::now();
    let mut program = if c.command.is_empty() {
        eprintln!(
            "labnet check client: waiting {} s for your {} client on {addr}",
            c.timeout.as_secs(),
            c.proto
        );
        None
    } else {
        Some(Program::start(&c.command, addr.port(), Arc::clone(&waker))?)
    };
    let deadline = started + c.timeout;
    let mut events = mio::Events::with_capacity(4);
    let mut stream = None;
    let mut program_gone = false;
    while stream.is_none() && !program_gone {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        if let Err(e) = poll.poll(&mut events, Some(left)) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(io(e));
        }
        for event in &events {
            if event.token() == WAKER {
                program_gone = true;
            }
        }
        // Accept even when the program is gone: it may have connected, then exited.
        match listener.accept() {
            Ok((s, _)) => stream = Some(TcpStream::from(s)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(io(e)),
        }
    }
    let mut session = Session::default();
    if let Some(s) = stream {
        session.accepted_after = started.elapsed();
        serve(c, s, deadline, &mut session);
    }
    let exit = program
        .as_mut()
        .map(|p| (p.exit_code(EXIT), p.last_error()));
    Ok(judge(c, &session, exit, addr))
}

/// Serve the connection until the client closes, resets, or the deadline passes.
fn serve(c: &ClientCheck, mut s: TcpStream, deadline: Instant, session: &mut Session) {
    let opened = Instant::now();
    session.peer = s.peer_addr().ok();
    let _ = s.set_nonblocking(false);
    let _ = s.set_nodelay(true);
    let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
    let mut layout: Option<Layout> = None;
    let mut consumed = 0;
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || s.set_read_timeout(Some(left)).is_err() {
            session.timed_out = true;
            return;
        }
        let n = match s.read(&mut chunk) {
            Ok(0) => {
                session.fin_after = Some(opened.elapsed());
                break;
            }
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                session.timed_out = true;
                return;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                if session.reset.is_none() {
                    session.reset = Some(format!(
                        "the connection was reset (RST) {} after it opened ({e})",
                        ms(opened.elapsed())
                    ));
                }
                return;
            }
        };
        session.received.extend_from_slice(&chunk[..n]);
        if c.proto == Proto::Text {
            let echo = chunk[..n].to_vec();
            session.messages.push(Sent {
                order: 0,
                size: n as u64,
                payload: n,
                bytes: echo.clone(),
            });
            // Text has no boundaries to split at: a client cannot tell a split echo
            // from two echoes, so text is echoed as it came.
            if !write_echo(&mut s, session, &echo, false) {
                return;
            }
            continue;
        }
        let pending = &session.received[consumed..];
        if layout.is_none() {
            let needed = if c.proto == Proto::V2 {
                v2::MESSAGE_LEN
            } else {
                v3::HEADER_LEN
            };
            if pending.len() < needed {
                continue;
            }
            session.mistake = mistake(c.proto, pending, false);
            layout = Some(match &session.mistake {
                Some(m) => Layout::of_mistake(c.proto, m),
                None => Layout::lab(c.proto),
            });
        }
        let Some(l) = layout else { continue };
        // Every whole message now buffered is echoed in one write (coalesced).
        let mut echo = Vec::new();
        loop {
            match l.frame_len(&session.received[consumed..]) {
                Ok(Some(len)) => {
                    let m = &session.received[consumed..consumed + len];
                    let payload_field = &m[l.header..];
                    let used = payload_field
                        .iter()
                        .rposition(|&x| x != 0)
                        .map_or(0, |i| i + 1);
                    session.messages.push(Sent {
                        order: l.field(m, l.order),
                        size: l.field(m, l.size),
                        payload: if l.fixed.is_some() {
                            used
                        } else {
                            payload_field.len()
                        },
                        bytes: m.to_vec(),
                    });
                    echo.extend_from_slice(m);
                    consumed += len;
                }
                Ok(None) => break,
                Err(size) => {
                    session.unframed = Some(format!(
                        "a header announced size {size}, over the {MAX_SIZE}-byte limit"
                    ));
                    return;
                }
            }
        }
        if !echo.is_empty() && !write_echo(&mut s, session, &echo, true) {
            return;
        }
    }
    let rest = &session.received[consumed..];
    if !rest.is_empty() && c.proto != Proto::Text {
        let why = match mistake(c.proto, rest, true) {
            Some(m) => m.to_string(),
            None => format!(
                "{} bytes ({}) never made a whole message",
                rest.len(),
                hex(rest, HEX)
            ),
        };
        session.unframed = Some(why);
    }
    // A client that closed with echo bytes unread sends RST right after its FIN's place;
    // one short read sees it.
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

/// Write one echo the adversarial way; false when the connection failed.
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
                crate::error::plain(&e)
            ));
            session.echo_failed = true;
            // Keep reading: the bytes the client sent before its RST are still queued.
            true
        }
    }
}

fn judge(
    c: &ClientCheck,
    s: &Session,
    exit: Option<(Option<i32>, String)>,
    addr: SocketAddr,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    let Some(peer) = s.peer else {
        let fix = format!(
            "connect to port {} (the lab server's address and port)",
            addr.port()
        );
        let evidence = match &exit {
            Some((Some(code), err)) => {
                format!("the program exited with status {code} without connecting: {err}")
            }
            _ => format!("no client connected to {addr} within {}", ms(c.timeout)),
        };
        return battery::client(c.proto)
            .into_iter()
            .map(|check| CheckResult::fail(check.name, evidence.clone(), fix.clone()))
            .collect();
    };
    for check in battery::client(c.proto) {
        out.push(match check.name {
            "connects" => CheckResult::pass(
                check.name,
                format!(
                    "connected from {peer} {} after the start",
                    ms(s.accepted_after)
                ),
            ),
            "format" => format_check(c, s),
            "order" => order_check(s),
            "size" => size_check(c, s),
            "reads_echoes" => reads_check(c, s),
            "closes" => closes_check(c, s, &exit),
            _ => CheckResult::fail(check.name, "not implemented", ""),
        });
    }
    out
}

fn format_check(c: &ClientCheck, s: &Session) -> CheckResult {
    let name = battery::FORMAT.name;
    match &s.mistake {
        Some(m @ (Mistake::NativeAlignment { .. } | Mistake::LittleEndian { .. })) => {
            CheckResult::fail(
                name,
                format!(
                    "first message {}: {m}",
                    hex(
                        s.messages.first().map_or(&s.received[..], |x| &x.bytes),
                        HEX
                    )
                ),
                mistake_fix(m),
            )
        }
        _ if s.messages.is_empty() => CheckResult::fail(
            name,
            format!(
                "no whole {} message arrived ({} bytes: {})",
                c.proto,
                s.received.len(),
                hex(&s.received, HEX)
            ),
            format!(
                "pack each message with struct.pack({})",
                lab_format(c.proto)
            ),
        ),
        _ => CheckResult::pass(
            name,
            format!(
                "{}, each {} ({}), first {}",
                counted(s.messages.len() as u64, "message", "messages"),
                lab_format(c.proto),
                match c.proto {
                    Proto::V2 => "29 bytes".to_string(),
                    _ => "9-byte header + size bytes".to_string(),
                },
                hex(&s.messages[0].bytes, HEX)
            ),
        ),
    }
}

fn order_check(s: &Session) -> CheckResult {
    let name = battery::ORDER.name;
    let orders: Vec<u64> = s.messages.iter().map(|m| m.order).collect();
    let shown = orders
        .iter()
        .take(12)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if orders.is_empty() {
        return CheckResult::fail(name, "no whole message arrived", "");
    }
    if orders.iter().zip(1..).all(|(&o, want)| o == want) {
        CheckResult::pass(name, format!("orders {shown}"))
    } else {
        CheckResult::fail(
            name,
            format!("orders {shown}"),
            "number the messages from 1, adding 1 for each message sent",
        )
    }
}

fn size_check(c: &ClientCheck, s: &Session) -> CheckResult {
    let name = battery::SIZE.name;
    let fix = "put the original message's length in the size field: len(message) before packing";
    if let Some(Mistake::SizeMismatch { .. }) = &s.mistake {
        if let Some(m) = &s.mistake {
            return CheckResult::fail(name, format!("first message: {m}"), fix);
        }
    }
    for (i, m) in s.messages.iter().enumerate() {
        let carried = (m.size as usize).min(v2::PAYLOAD_LEN);
        let bad = match c.proto {
            // The 20s field holds the message cut to 20 bytes, NUL-padded.
            Proto::V2 => m.payload > m.size as usize || (m.payload > 0 && m.payload < carried),
            _ => false,
        };
        if bad {
            return CheckResult::fail(
                name,
                format!(
                    "message {}: the size field says {} but {} payload bytes travelled ({})",
                    i + 1,
                    m.size,
                    m.payload,
                    hex(&m.bytes, HEX)
                ),
                fix,
            );
        }
    }
    if let Some(why) = &s.unframed {
        return CheckResult::fail(
            name,
            format!("after {} whole messages: {why}", s.messages.len()),
            fix,
        );
    }
    if s.messages.is_empty() {
        return CheckResult::fail(name, "no whole message arrived", "");
    }
    let sizes = s
        .messages
        .iter()
        .take(12)
        .map(|m| m.size.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    CheckResult::pass(name, format!("sizes {sizes}, each matching its payload"))
}

fn reads_check(c: &ClientCheck, s: &Session) -> CheckResult {
    let name = battery::READS_ECHOES.name;
    let how = match s.echoes {
        _ if c.proto == Proto::Text => String::new(),
        0 => String::new(),
        1 => " (split after 4 bytes, 100 ms between the halves)".to_string(),
        _ => " (the 1st split after 4 bytes, the 2nd in the middle, 100 ms between halves)"
            .to_string(),
    };
    if let Some(reset) = &s.reset {
        return CheckResult::fail(
            name,
            format!(
                "{} ({} bytes) sent{how}; {reset}: the client closed with echo bytes unread",
                counted(s.echoes as u64, "echo", "echoes"),
                s.echo_bytes
            ),
            match c.proto {
                Proto::V3 => {
                    "read every echo whole: loop on recv() until you have 9 header \
                              bytes, then size more"
                }
                Proto::V2 => "read every echo whole: loop on recv() until you have all 29 bytes",
                Proto::Text => "read the echo before closing: loop on recv() until it is all there",
            },
        );
    }
    if s.fin_after.is_none() {
        return CheckResult::fail(
            name,
            format!(
                "{} ({} bytes) sent{how}; the client was still connected after {}",
                counted(s.echoes as u64, "echo", "echoes"),
                s.echo_bytes,
                ms(c.timeout)
            ),
            "after each message read exactly one echo (header, then size bytes), then go on",
        );
    }
    CheckResult::pass(
        name,
        format!(
            "{} ({} bytes) sent{how}; the client closed with FIN, nothing left unread",
            counted(s.echoes as u64, "echo", "echoes"),
            s.echo_bytes
        ),
    )
}

fn closes_check(c: &ClientCheck, s: &Session, exit: &Option<(Option<i32>, String)>) -> CheckResult {
    let name = battery::CLOSES.name;
    let ended = match (&s.fin_after, &s.reset) {
        (Some(after), _) => format!("the client closed (FIN) {} after connecting", ms(*after)),
        (None, Some(_)) => "the client ended the connection (RST)".to_string(),
        (None, None) => {
            return CheckResult::fail(
                name,
                format!("the connection was still open after {}", ms(c.timeout)),
                "close() the socket after the last echo",
            )
        }
    };
    match exit {
        Some((Some(0), _)) | None => CheckResult::pass(
            name,
            if exit.is_some() {
                format!("{ended}; the program exited 0")
            } else {
                ended
            },
        ),
        Some((Some(code), err)) => CheckResult::fail(
            name,
            format!("{ended}; the program exited with status {code}: {err}"),
            "run it by hand and read the traceback: it often comes from an echo read in part",
        ),
        Some((None, _)) => CheckResult::fail(
            name,
            format!("{ended}; the program was still running {} later", ms(EXIT)),
            "end the program after closing the socket",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_layouts_frame_and_read_their_fields() {
        // struct.pack('BII20s', 1, 7, 5, b'hello'): 32 bytes, little-endian.
        let mut native = vec![1, 0, 0, 0, 7, 0, 0, 0, 5, 0, 0, 0];
        native.extend_from_slice(b"hello");
        native.resize(32, 0);
        let m = mistake(Proto::V2, &native, false);
        let l = m
            .as_ref()
            .map(|m| Layout::of_mistake(Proto::V2, m))
            .unwrap_or(Layout::lab(Proto::V2));
        assert_eq!(l.frame_len(&native), Ok(Some(32)));
        assert_eq!(
            (l.field(&native, l.order), l.field(&native, l.size)),
            (7, 5)
        );
        // struct.pack('<BII', 1, 2, 5) + b'hello': 9 + 5 bytes.
        let mut little = vec![1, 2, 0, 0, 0, 5, 0, 0, 0];
        little.extend_from_slice(b"hello");
        let m = mistake(Proto::V3, &little, false);
        assert!(matches!(m, Some(Mistake::LittleEndian { .. })), "{m:?}");
        let l = m
            .as_ref()
            .map(|m| Layout::of_mistake(Proto::V3, m))
            .unwrap_or(Layout::lab(Proto::V3));
        assert_eq!(l.frame_len(&little), Ok(Some(14)));
        assert_eq!(l.field(&little, l.order), 2);
        // The lab's own layout: a v3 header announcing more than the limit is refused.
        let lab = Layout::lab(Proto::V3);
        assert_eq!(
            lab.frame_len(&[1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]),
            Err(0xffff_ffff)
        );
        assert_eq!(lab.frame_len(&[1, 0, 0, 0, 1, 0, 0, 0, 3, b'a']), Ok(None));
    }
}
