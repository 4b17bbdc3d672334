//! `labnet check server`: the battery against a student's server. Every check opens its
//! own connections and closes them before the next check starts, so a server that
//! serves one client at a time fails only the check about that.

use super::battery::{self, Check, ANSWER, SECOND_CLIENT, SILENCE, SPLIT_PAUSE};
use super::explain::{echo_difference, lab_format};
use super::launch::{Line, ServerProgram};
use super::prints::{self, Expected};
use super::probe::{self, ending, hex, ms, End, Got};
use super::CheckResult;
use crate::error::NetError;
use labproto::{Message, Proto};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Hex bytes shown per evidence string.
const HEX: usize = 16;
/// How long unexpected bytes after an echo are watched for.
const EXTRA: Duration = Duration::from_millis(100);
/// Time allowed to connect: loopback and a lab LAN connect in milliseconds.
const CONNECT: Duration = Duration::from_secs(2);

/// Which server to check and how it should answer.
#[derive(Debug, Clone)]
pub struct ServerCheck {
    pub addr: SocketAddr,
    pub proto: Proto,
    /// The server echoes (4.3, 5.3, 2, 3); false for the print-only 4.1 and 5.1.
    pub echo: bool,
    /// The student's server, started by the check; `{port}` in an argument is
    /// replaced by the port. Empty: a server already running at `addr`.
    pub command: Vec<String>,
    /// Every whole message the checks sent, to compare with what the server printed.
    sent: Arc<Mutex<Vec<Expected>>>,
    /// When each check ran (wall clock, to find its frames in a netlab frame log).
    spans: Arc<Mutex<Vec<Span>>>,
}

/// When one check ran, in wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub check: &'static str,
    pub start: SystemTime,
    pub end: SystemTime,
}

impl ServerCheck {
    pub fn new(addr: SocketAddr, proto: Proto, echo: bool, command: Vec<String>) -> ServerCheck {
        ServerCheck {
            addr,
            proto,
            echo,
            command,
            sent: Arc::default(),
            spans: Arc::default(),
        }
    }

    /// When each check of the last run ran.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// One lab message, as [`message`], remembered as sent.
    fn message(&self, proto: Proto, order: u32, text: &[u8]) -> Vec<u8> {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(Expected {
                order,
                text: text.to_vec(),
            });
        }
        message(proto, order, text)
    }
}

/// After the battery, the server's last prints are waited for until it has been
/// quiet this long ...
const LAST_PRINTS: Duration = Duration::from_millis(300);
/// ... but no longer than this in all.
const LAST_PRINTS_MAX: Duration = Duration::from_secs(3);

/// Run the whole battery; `Err` only when the server cannot be reached at all (or,
/// with a command, cannot be started). One root cause is said once. Returns the
/// check as run (with `--port 0`, the port the server was started on) and the results.
pub fn run(c: &ServerCheck) -> Result<(ServerCheck, Vec<CheckResult>), NetError> {
    run_until(c, &AtomicBool::new(false))
}

/// [`run`], stopping between two checks once `stop` is set (Ctrl-C): `Err` then.
pub fn run_until(
    c: &ServerCheck,
    stop: &AtomicBool,
) -> Result<(ServerCheck, Vec<CheckResult>), NetError> {
    let mut c = c.clone();
    let program = if c.command.is_empty() {
        None
    } else {
        if c.addr.port() == 0 {
            c.addr.set_port(free_port(c.addr)?);
        }
        let mut p = ServerProgram::start(&c.command, c.addr.port())?;
        p.wait_listening(c.addr)?;
        Some(p)
    };
    // One connection first, so "nothing listens there" is one clear error instead of
    // every check failing the same way.
    drop(
        probe::connect(c.addr, CONNECT).map_err(|source| NetError::Connect {
            addr: c.addr,
            source,
        })?,
    );
    let mut windows = Vec::new();
    let mut results: Vec<CheckResult> = Vec::new();
    for check in battery::server(c.proto, c.echo) {
        if stop.load(Ordering::SeqCst) {
            return Err(NetError::Netlab(format!(
                "interrupted (Ctrl-C) before the check '{}'",
                check.name
            )));
        }
        let (started, start) = (Instant::now(), SystemTime::now());
        results.push(run_one(&c, check));
        windows.push((check.name, started));
        if let Ok(mut spans) = c.spans.lock() {
            spans.push(Span {
                check: check.name,
                start,
                end: SystemTime::now(),
            });
        }
    }
    if let Some(p) = program {
        p.wait_quiet(LAST_PRINTS, LAST_PRINTS_MAX);
        let sent = c.sent.lock().map(|s| s.clone()).unwrap_or_default();
        let lines = p.lines();
        said_on_stderr(&mut results, &lines, &windows);
        results.push(prints_check(&c, &lines, &sent, &windows));
        // Dropping the program kills it.
    }
    super::mark_consequences(&mut results);
    Ok((c, results))
}

/// A port nothing listens on now, for the server the check starts.
fn free_port(addr: SocketAddr) -> Result<u16, NetError> {
    std::net::TcpListener::bind(addr)
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| NetError::Usage(format!("cannot find a free port on {}: {e}", addr.ip())))
}

/// Compare the messages the server printed with the ones the checks sent: a line
/// that prints fields no check sent is a message the server framed wrongly.
fn prints_check(
    c: &ServerCheck,
    lines: &[Line],
    sent: &[Expected],
    windows: &[(&'static str, Instant)],
) -> CheckResult {
    let name = battery::PRINTS.name;
    let printed: Vec<(&Line, prints::Printed)> = lines
        .iter()
        .filter(|l| !l.stderr)
        .filter_map(|l| prints::parse(&l.text).map(|p| (l, p)))
        .collect();
    let during = |l: &Line| -> &'static str {
        windows
            .iter()
            .rev()
            .find(|(_, start)| *start <= l.at)
            .map_or("start-up", |(n, _)| n)
    };
    let wrong: Vec<&(&Line, prints::Printed)> = printed
        .iter()
        .filter(|(_, p)| !sent.iter().any(|e| p.is(e)))
        .collect();
    let complaints = lines.iter().filter(|l| l.stderr).count();
    let stderr = stderr_by_check(lines, &during);
    if printed.is_empty() {
        if lines.iter().all(|l| l.stderr) {
            return CheckResult::fail(
                name,
                format!(
                    "your server printed nothing on stdout while the checks ran \
                     ({complaints} lines on stderr){stderr}"
                ),
                "print each message you receive, as the lab's server does: \
                 print(addr, version, order, size, payload)",
            );
        }
        // Its own words: nothing to compare, which is no fault of the program.
        return CheckResult::pass(
            name,
            format!(
                "not compared: none of the {} lines your server printed reads as a message \
                 (version, order and size as numbers before the payload as b'...'){stderr}",
                lines.iter().filter(|l| !l.stderr).count()
            ),
        );
    }
    let right = printed.len() - wrong.len();
    if wrong.is_empty() {
        return CheckResult::pass(
            name,
            format!(
                "{} printed, each one the checks sent (order, size and payload){stderr}",
                crate::server::counted(printed.len() as u64, "message", "messages")
            ),
        );
    }
    let mut checks: Vec<&str> = wrong.iter().map(|(l, _)| during(l)).collect();
    checks.dedup();
    let (line, first) = (&wrong[0].0.text, &wrong[0].1);
    CheckResult::fail(
        name,
        format!(
            "your server printed {}: {right} {} the checks sent, {} not (during {}); the \
             first wrong one, {first}, was printed as: {}{stderr}",
            crate::server::counted(printed.len() as u64, "message", "messages"),
            if right == 1 { "is one" } else { "are ones" },
            match wrong.len() {
                1 => "1 is".to_string(),
                n => format!("{n} are"),
            },
            checks.join(", "),
            labproto::text::escape(&line.as_bytes()[..line.len().min(100)])
        ),
        framing_fix(c.proto),
    )
}

/// The last line the server wrote on stderr during each check (a traceback's last
/// line names the exception), for at most 3 checks.
/// A failed check's evidence gains what the server wrote on stderr while it ran (the
/// last unindented line: a traceback's exception), e.g. the `struct.error` of a thread
/// that died on a split header.
fn said_on_stderr(
    results: &mut [CheckResult],
    lines: &[Line],
    windows: &[(&'static str, Instant)],
) {
    for r in results.iter_mut().filter(|r| !r.pass) {
        let Some(i) = windows.iter().position(|(name, _)| *name == r.check) else {
            continue;
        };
        let start = windows[i].1;
        let end = windows.get(i + 1).map(|(_, at)| *at);
        let said = lines.iter().rfind(|l| {
            l.stderr
                && l.at >= start
                && end.is_none_or(|e| l.at < e)
                && !l.text.is_empty()
                && !l.text.starts_with(char::is_whitespace)
        });
        if let Some(l) = said {
            r.evidence.push_str(&format!(
                "; meanwhile your server wrote on stderr: {}",
                labproto::text::escape(&l.text.as_bytes()[..l.text.len().min(100)])
            ));
        }
    }
}

fn stderr_by_check(lines: &[Line], during: &dyn Fn(&Line) -> &'static str) -> String {
    let mut last: Vec<(&str, &str)> = Vec::new();
    for l in lines.iter().filter(|l| l.stderr) {
        let check = during(l);
        match last.iter_mut().find(|(c, _)| *c == check) {
            Some(entry) => entry.1 = &l.text,
            None => last.push((check, &l.text)),
        }
    }
    last.iter()
        .take(3)
        .map(|(check, text)| {
            format!(
                "; during or right after {check} it wrote on stderr: {}",
                labproto::text::escape(&text.as_bytes()[..text.len().min(100)])
            )
        })
        .collect()
}

fn run_one(c: &ServerCheck, check: Check) -> CheckResult {
    let outcome = match check.name {
        "echo" => echo(c),
        "silent" => silent(c),
        "split" => split(c),
        "coalesced" => coalesced(c),
        "large" => large(c),
        "v2_long" => v2_long(c),
        "v3_empty" => v3_empty(c),
        "concurrent" => concurrent(c),
        "reset" => reset(c),
        "half_close" => half_close(c),
        _ => Err(("this check is not implemented".to_string(), String::new())),
    };
    match outcome {
        Ok(evidence) => CheckResult::pass(check.name, evidence),
        Err((evidence, fix)) => CheckResult::fail(check.name, evidence, fix),
    }
}

/// Evidence on success, (evidence, fix) on failure.
type Outcome = Result<String, (String, String)>;

/// One lab message of `proto` as the lab's clients send it.
pub fn message(proto: Proto, order: u32, text: &[u8]) -> Vec<u8> {
    // Only payloads over 4 GiB cannot be encoded; the checks' are small.
    Message::new(proto, 1, order, text)
        .map(|m| m.encode())
        .unwrap_or_default()
}

fn connect(c: &ServerCheck) -> Result<TcpStream, (String, String)> {
    probe::connect(c.addr, CONNECT).map_err(|e| {
        (
            format!("cannot connect to {}: {}", c.addr, crate::error::plain(&e)),
            CONNECT_FIX.to_string(),
        )
    })
}

fn write(s: &mut TcpStream, bytes: &[u8]) -> Result<(), (String, String)> {
    probe::send(s, bytes).map_err(|k| {
        (
            format!("sending {} bytes failed: {k}", bytes.len()),
            "keep the connection open until the client closes it".to_string(),
        )
    })
}

/// The fix when messages are not framed: one recv() is not one message (split,
/// coalesced, large, what the server printed): one sentence, so one root cause.
fn framing_fix(proto: Proto) -> &'static str {
    match proto {
        Proto::V3 => {
            "read one message at a time: loop on recv() until you have 9 header bytes, then \
             until you have size more (recv() may return part of a message, or several), and \
             keep the extra bytes for the next message"
        }
        Proto::V2 => {
            "read exactly 29 bytes per message: loop on recv(29 - len(data)) (recv() may \
             return part of a message, or several)"
        }
        Proto::Text => "use sendall() for the echo",
    }
}

/// Compare what came back with what was sent. `missing_fix` is the fix when the echo
/// is absent or cut short.
fn judge(
    c: &ServerCheck,
    s: &mut TcpStream,
    sent: &[u8],
    got: Got,
    what: &str,
    missing_fix: &str,
) -> Outcome {
    if got.bytes == sent {
        return Ok(format!(
            "{what}: {} bytes sent ({}), the same {} bytes came back after {}",
            sent.len(),
            hex(sent, HEX),
            sent.len(),
            ms(got.elapsed)
        ));
    }
    if sent.starts_with(&got.bytes) && !got.complete() {
        return Err((
            format!(
                "{what}: {} bytes sent ({}); {} came back ({}), {}",
                sent.len(),
                hex(sent, HEX),
                got.bytes.len(),
                hex(&got.bytes, HEX),
                ending(&got)
            ),
            missing_fix.to_string(),
        ));
    }
    // A wrong echo may be longer than the message (native alignment: 32 bytes for 29):
    // take what else arrives at once so the recognisers see all of it.
    let mut bytes = got.bytes;
    if got.end == End::Complete {
        bytes.extend(probe::read_any(s, Duration::from_millis(100)).bytes);
    }
    let (why, fix) = echo_difference(c.proto, sent, &bytes).unwrap_or_default();
    Err((
        format!(
            "{what}: sent {} bytes ({}), received {} ({}): {why}",
            sent.len(),
            hex(sent, HEX),
            bytes.len(),
            hex(&bytes, HEX)
        ),
        fix,
    ))
}

/// One message and its echo on `s`.
fn exchange(c: &ServerCheck, s: &mut TcpStream, order: u32, what: &str) -> Outcome {
    let sent = c.message(c.proto, order, b"hello from labnet");
    write(s, &sent)?;
    let got = probe::read_n(s, sent.len(), ANSWER);
    judge(c, s, &sent, got, what, MISSING_FIX)
}

/// A fresh client is served: echoed, or (print-only servers) kept open after a message.
fn served(c: &ServerCheck, what: &str) -> Outcome {
    let mut s = connect(c)?;
    if c.echo {
        return exchange(c, &mut s, 1, what);
    }
    let sent = c.message(c.proto, 1, b"are you still there?");
    write(&mut s, &sent)?;
    let got = probe::read_any(&mut s, SILENCE);
    match got.end {
        End::Timeout => Ok(format!(
            "{what}: connected, sent {} bytes, the connection stayed open",
            sent.len()
        )),
        _ => Err((
            format!("{what}: sent {} bytes; {}", sent.len(), ending(&got)),
            "keep reading in a loop until recv() returns b''".to_string(),
        )),
    }
}

fn echo(c: &ServerCheck) -> Outcome {
    let mut s = connect(c)?;
    let evidence = exchange(c, &mut s, 1, "one message")?;
    // One echo, not more: a server that answers twice would pass on the first copy.
    let extra = probe::read_any(&mut s, EXTRA);
    if !extra.bytes.is_empty() {
        return Err((
            format!(
                "{evidence}, then {} more bytes ({})",
                extra.bytes.len(),
                hex(&extra.bytes, HEX)
            ),
            "send exactly one echo per message: sendall(data) once".to_string(),
        ));
    }
    Ok(evidence)
}

fn silent(c: &ServerCheck) -> Outcome {
    let mut s = connect(c)?;
    let sent = c.message(c.proto, 1, b"print me, no echo");
    write(&mut s, &sent)?;
    let got = probe::read_any(&mut s, SILENCE);
    match (got.bytes.is_empty(), got.end) {
        (true, End::Timeout) => Ok(format!(
            "sent {} bytes ({}); nothing came back for {} and the connection stayed open",
            sent.len(),
            hex(&sent, HEX),
            ms(got.elapsed)
        )),
        (false, _) => Err((
            format!(
                "sent {} bytes; {} bytes came back ({})",
                sent.len(),
                got.bytes.len(),
                hex(&got.bytes, HEX)
            ),
            "the 4.1/5.1 server only prints: remove the send(), or check it without --no-echo"
                .to_string(),
        )),
        (true, _) => Err((
            format!("sent {} bytes; {}", sent.len(), ending(&got)),
            "keep reading in a loop until recv() returns b''".to_string(),
        )),
    }
}

fn split(c: &ServerCheck) -> Outcome {
    // v3: one message cut inside its 9-byte header, then one cut inside its payload
    // (a server that loops for the header but reads the payload with one recv(size)
    // passes the first); v2: cut in the middle of the 29 bytes.
    let cuts: &[(usize, &str)] = if c.proto == Proto::V3 {
        &[(4, "in its header"), (12, "in its payload")]
    } else {
        &[(0, "in the middle")]
    };
    let mut s = connect(c)?;
    let mut evidence = Vec::new();
    for (i, &(at, where_)) in cuts.iter().enumerate() {
        let sent = c.message(c.proto, i as u32 + 1, b"split in two");
        let at = if at == 0 { sent.len() / 2 } else { at };
        write(&mut s, &sent[..at])?;
        std::thread::sleep(SPLIT_PAUSE);
        write(&mut s, &sent[at..])?;
        let got = probe::read_n(&mut s, sent.len(), ANSWER);
        let what = format!(
            "cut {where_}: {at} bytes, {} later the other {}",
            ms(SPLIT_PAUSE),
            sent.len() - at
        );
        evidence.push(judge(c, &mut s, &sent, got, &what, framing_fix(c.proto))?);
    }
    Ok(evidence.join("; "))
}

fn coalesced(c: &ServerCheck) -> Outcome {
    let mut s = connect(c)?;
    let mut evidence = Vec::new();
    let mut order = 1;
    for count in [2u32, 10] {
        let mut sent = Vec::new();
        for _ in 0..count {
            // At most 20 bytes: v2 carries them all, so only v2_long tests a cut message.
            let text = format!("coalesced {order}{}", "!".repeat(order as usize % 4));
            sent.extend(c.message(c.proto, order, text.as_bytes()));
            order += 1;
        }
        write(&mut s, &sent)?;
        let got = probe::read_n(&mut s, sent.len(), ANSWER);
        let what = format!("{count} messages in one segment");
        evidence.push(judge(c, &mut s, &sent, got, &what, framing_fix(c.proto))?);
    }
    Ok(evidence.join("; "))
}

fn large(c: &ServerCheck) -> Outcome {
    const LEN: usize = 100_000;
    let text: Vec<u8> = b"The quick brown fox jumps over the lazy dog. "
        .iter()
        .copied()
        .cycle()
        .take(LEN)
        .collect();
    let sent = c.message(c.proto, 1, &text);
    let mut s = connect(c)?;
    // Written from a second thread: a server that echoes while it reads must not fill
    // both socket buffers while this thread is still writing.
    let mut writer = s.try_clone().map_err(|e| (e.to_string(), String::new()))?;
    let to_send = sent.clone();
    let handle = std::thread::spawn(move || probe::send(&mut writer, &to_send));
    let got = probe::read_n(&mut s, sent.len(), ANSWER * 3);
    if got.end != End::Complete {
        // Unblock a writer stuck on a server that stopped reading.
        let _ = s.shutdown(Shutdown::Both);
    }
    let _ = handle.join();
    let what = format!("{} bytes in one sendall()", sent.len());
    match judge(c, &mut s, &sent, got.clone(), &what, framing_fix(c.proto)) {
        Ok(_) => Ok(format!(
            "{} bytes sent, the same {} bytes came back after {}",
            sent.len(),
            sent.len(),
            ms(got.elapsed)
        )),
        Err(e) => Err(e),
    }
}

fn v2_long(c: &ServerCheck) -> Outcome {
    let text = b"an original message of 37 bytes: ok!!";
    let text = &text[..text.len().min(37)];
    let sent = c.message(Proto::V2, 1, text);
    let mut s = connect(c)?;
    write(&mut s, &sent)?;
    let got = probe::read_n(&mut s, sent.len(), ANSWER);
    let what = format!(
        "a {}-byte original message ({} bytes on the wire, size field {})",
        text.len(),
        sent.len(),
        text.len()
    );
    judge(c, &mut s, &sent, got, &what, framing_fix(Proto::V2))
}

fn v3_empty(c: &ServerCheck) -> Outcome {
    let sent = c.message(Proto::V3, 1, b"");
    let mut s = connect(c)?;
    write(&mut s, &sent)?;
    let got = probe::read_n(&mut s, sent.len(), ANSWER);
    judge(
        c,
        &mut s,
        &sent,
        got,
        "size 0, 9 header bytes only",
        "with size 0 there is no payload: echo the 9 header bytes without calling recv(0) \
         (it returns b'', which looks like a closed connection)",
    )?;
    // The connection must still work after the empty message.
    exchange(c, &mut s, 2, "then one more message")?;
    Ok(format!(
        "size 0: the 9 bytes ({}) came back, and the next message too",
        hex(&sent, HEX)
    ))
}

fn concurrent(c: &ServerCheck) -> Outcome {
    let mut first = connect(c)?;
    exchange(c, &mut first, 1, "client 1").map_err(|(e, fix)| {
        if unanswered(&fix) {
            (format!("client 1 was not served: {e}"), fix)
        } else {
            // Bytes came back: client 1 was served, wrongly.
            (format!("client 1 was answered, wrongly: {e}"), fix)
        }
    })?;
    // Client 1 now stays connected and idle, as a student at a prompt would.
    let mut second = connect(c)?;
    let sent = c.message(c.proto, 1, b"client 2 is here");
    let started = Instant::now();
    write(&mut second, &sent)?;
    let got = probe::read_n(&mut second, sent.len(), SECOND_CLIENT);
    if got.bytes == sent {
        return Ok(format!(
            "client 1 connected, was echoed and stayed idle; client 2 was echoed after {}",
            ms(got.elapsed)
        ));
    }
    if got.complete() {
        return judge(c, &mut second, &sent, got, "client 2", "");
    }
    // Closing client 1 shows whether client 2 was only waiting in the backlog.
    drop(first);
    let closed = started.elapsed();
    let rest = probe::read_n(&mut second, sent.len() - got.bytes.len(), ANSWER);
    let fix = "your server serves one client at a time: handle each client in its own thread \
               or register it with a selector";
    if rest.complete() {
        Err((
            format!(
                "client 2 got no answer in {} while client 1 stayed connected; its echo came \
                 {} after client 1 closed",
                ms(SECOND_CLIENT),
                ms(started.elapsed().saturating_sub(closed))
            ),
            fix.to_string(),
        ))
    } else {
        Err((
            format!(
                "client 2 got no answer in {} while client 1 stayed connected, nor {} after \
                 client 1 closed",
                ms(SECOND_CLIENT),
                ms(ANSWER)
            ),
            fix.to_string(),
        ))
    }
}

fn reset(c: &ServerCheck) -> Outcome {
    let sent = c.message(c.proto, 1, b"never finished");
    let part = &sent[..4.min(sent.len())];
    let mut s = connect(c)?;
    write(&mut s, part)?;
    // SO_LINGER 0: close() sends RST instead of FIN, as a killed client's host may.
    socket2::SockRef::from(&s)
        .set_linger(Some(Duration::ZERO))
        .map_err(|e| (e.to_string(), String::new()))?;
    drop(s);
    let fix = "catch ConnectionResetError (and b'' from recv()) for that client only: close \
               its socket and keep serving the others";
    match served(c, "then a new client") {
        Ok(e) => Ok(format!(
            "a client sent {} bytes ({}) and reset the connection (RST); {e}",
            part.len(),
            hex(part, HEX)
        )),
        // Only a new client left unanswered says the reset hurt the server; a wrong
        // answer has the cause the answer shows.
        Err((e, inner)) => Err((
            format!(
                "a client sent {} bytes and reset the connection (RST); {e}",
                part.len()
            ),
            if unanswered(&inner) {
                fix.to_string()
            } else {
                inner
            },
        )),
    }
}

/// The fix given when nothing (or only part of the message) came back.
const MISSING_FIX: &str = "send the echo back with sendall(data) after each message";
/// The fix given when a connection was refused.
const CONNECT_FIX: &str =
    "keep the server running: call accept() again in a loop after each client";

/// `fix` says the client got no whole answer (or could not connect), not a wrong one.
fn unanswered(fix: &str) -> bool {
    fix == MISSING_FIX || fix == CONNECT_FIX
}

fn half_close(c: &ServerCheck) -> Outcome {
    let sent = c.message(c.proto, 1, b"then I stop sending");
    let mut s = connect(c)?;
    write(&mut s, &sent)?;
    s.shutdown(Shutdown::Write)
        .map_err(|e| (e.to_string(), String::new()))?;
    let mut evidence = format!("sent {} bytes then shutdown(SHUT_WR) (FIN)", sent.len());
    if c.echo {
        let got = probe::read_n(&mut s, sent.len(), ANSWER);
        if got.bytes != sent {
            let (why, fix) = match judge(c, &mut s, &sent, got, "the echo", "") {
                Err((why, fix)) if !fix.is_empty() => (why, fix),
                Err((why, _)) => (
                    why,
                    "after the client's shutdown() still echo what you received: recv() \
                     returning b'' only means no more will come"
                        .to_string(),
                ),
                Ok(why) => (why, String::new()),
            };
            return Err((format!("{evidence}; {why}"), fix));
        }
        evidence.push_str(&format!("; the echo came after {}", ms(got.elapsed)));
    }
    let end = probe::read_n(&mut s, 1, ANSWER);
    match end.end {
        End::Eof => evidence.push_str(&format!("; the server closed after {}", ms(end.elapsed))),
        End::Complete => {
            return Err((
                format!("{evidence}; more bytes came instead of the close"),
                "send exactly one echo per message, and close() when recv() returns b''"
                    .to_string(),
            ))
        }
        _ => {
            return Err((
                format!("{evidence}; the server did not close: {}", ending(&end)),
                "when recv() returns b'' the client is done: close() that socket and end its \
                 loop"
                    .to_string(),
            ))
        }
    }
    match served(c, "then a new client") {
        Ok(e) => Ok(format!("{evidence}; {e}")),
        Err((e, fix)) => Err((format!("{evidence}; {e}"), fix)),
    }
}

/// The lab format named for the table's header line.
pub fn describe(c: &ServerCheck) -> String {
    format!(
        "{} server at {} ({}{})",
        c.proto,
        c.addr,
        lab_format(c.proto),
        if c.echo { ", echo" } else { ", no echo" }
    )
}
