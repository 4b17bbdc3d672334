//! The line grammar of `strace -f -ttt -T [-yy]` output (and `-tt`, wall-clock time of
//! day, with the date given separately), one line at a time, into plain records.
//!
//! ```text
//! 9567  1796116210.689510 recvfrom(5<TCP:[127.0.0.1:5006->127.0.0.1:37934]>, "\1\0"..., 65536, 0, NULL, NULL) = 29 <0.000015>
//! [pid  9568] 12:00:00.000101 epoll_wait(3<anon_inode:[eventpoll]>,  <unfinished ...>
//! 9568  1796116210.690166 <... epoll_wait resumed>[{events=EPOLLIN, data={u32=5, u64=5}}], 2, 1000) = 1 <0.000010>
//! 9567  1796116210.698124 +++ exited with 0 +++
//! 9567  1796116210.698124 --- SIGCHLD {si_signo=SIGCHLD, ...} ---
//! ```
//!
//! Nothing here allocates by a length read from the trace: records hold slices of
//! the line, whose length the reader bounds.

use std::net::{IpAddr, SocketAddr};

/// How the trace's timestamps read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// `-ttt`: seconds since the epoch (the capture's clock).
    #[default]
    Epoch,
    /// `-tt`: time of day; the microseconds since the epoch of that day's midnight
    /// (in the time zone strace ran in: TZ=UTC, or the offset folded in).
    Day(u64),
}

/// One line of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record<'a> {
    /// A call that returned on this line.
    Call(Call<'a>),
    /// `NAME(ARGS <unfinished ...>`: another thread's line came before its return;
    /// `head` is `NAME(ARGS` to be completed by the matching [`Record::Resumed`].
    Unfinished {
        tid: Option<u32>,
        ts: u64,
        head: &'a str,
    },
    /// `<... NAME resumed>TAIL`.
    Resumed {
        tid: Option<u32>,
        ts: u64,
        name: &'a str,
        tail: &'a str,
    },
    /// `--- SIGNAL {...} ---`.
    Signal { tid: Option<u32>, ts: u64 },
    /// `+++ exited with N +++` or `+++ killed by SIG +++`.
    Exit { tid: Option<u32>, ts: u64 },
}

/// A finished system call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call<'a> {
    /// The thread (strace -f prints the thread id; absent when one process was traced).
    pub tid: Option<u32>,
    /// When the call started, microseconds since the epoch.
    pub ts: u64,
    pub name: &'a str,
    /// Top-level arguments, as strace printed them.
    pub args: Vec<&'a str>,
    /// The return value (`None` for `?`).
    pub ret: Option<i64>,
    /// `-yy` annotation of a returned fd: `TCP:[a->b]` of `= 5<TCP:[a->b]>`.
    pub ret_tag: Option<&'a str>,
    /// `EINPROGRESS` of `= -1 EINPROGRESS (Operation now in progress)`.
    pub errno: Option<&'a str>,
    /// What strace printed in parentheses after the value (poll's and select's ready
    /// sets: `([{fd=3, revents=POLLIN}])`, `(in [5])`).
    pub extra: Option<&'a str>,
    /// `-T`: time spent in the call, microseconds.
    pub dur: Option<u64>,
}

impl Call<'_> {
    /// When the call returned (start + duration, or the start without `-T`).
    pub fn end(&self) -> u64 {
        self.ts.saturating_add(self.dur.unwrap_or(0))
    }
}

/// Why a line is not strace output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// No timestamp where `-ttt` or `-tt` puts one.
    NoTimestamp,
    /// Not `NAME(`.
    NoCall,
    /// The arguments' brackets or quotes do not close (a cut line).
    Unbalanced,
    /// No `= VALUE` after the arguments.
    NoReturn,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ParseError::NoTimestamp => "no strace timestamp (-ttt or -tt) at the start",
            ParseError::NoCall => "no system call name",
            ParseError::Unbalanced => "arguments cut off (unbalanced brackets or quotes)",
            ParseError::NoReturn => "no return value",
        })
    }
}

const UNFINISHED: &str = " <unfinished ...>";

/// Parse one line (without its newline).
pub fn line(text: &str, clock: Clock) -> Result<Record<'_>, ParseError> {
    let (tid, rest) = thread_id(text.trim_end_matches('\r'));
    let (ts, rest) = timestamp(rest, clock).ok_or(ParseError::NoTimestamp)?;
    if rest.starts_with("+++") {
        return Ok(Record::Exit { tid, ts });
    }
    if rest.starts_with("---") {
        return Ok(Record::Signal { tid, ts });
    }
    if let Some(after) = rest.strip_prefix("<... ") {
        let (name, tail) = after.split_once(" resumed>").ok_or(ParseError::NoCall)?;
        return Ok(Record::Resumed {
            tid,
            ts,
            name,
            tail,
        });
    }
    if let Some(head) = rest.trim_end().strip_suffix(UNFINISHED) {
        return Ok(Record::Unfinished { tid, ts, head });
    }
    call(tid, ts, rest).map(Record::Call)
}

/// Parse `NAME(ARGS) = RET ...` (a whole line's rest, or an unfinished head joined with
/// its resumed tail).
pub fn call(tid: Option<u32>, ts: u64, text: &str) -> Result<Call<'_>, ParseError> {
    let open = text.find('(').ok_or(ParseError::NoCall)?;
    let name = &text[..open];
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ParseError::NoCall);
    }
    let (args, close) = split_args(&text[open + 1..])?;
    let rest = text[open + 1 + close + 1..].trim_start();
    let rest = rest
        .strip_prefix('=')
        .ok_or(ParseError::NoReturn)?
        .trim_start();
    let (rest, dur) = duration(rest);
    // The value runs to a space or to a `<` annotation.
    let end = rest.find([' ', '<']).unwrap_or(rest.len());
    let value = &rest[..end];
    let ret = if value == "?" {
        None
    } else {
        Some(integer(value).ok_or(ParseError::NoReturn)?)
    };
    let mut rest = &rest[end..];
    let mut ret_tag = None;
    if rest.starts_with('<') {
        let close = matching_angle(rest).ok_or(ParseError::Unbalanced)?;
        ret_tag = Some(&rest[1..close]);
        rest = &rest[close + 1..];
    }
    let rest = rest.trim();
    let (errno, extra) = match rest.split_once(' ') {
        _ if rest.is_empty() => (None, None),
        _ if rest.starts_with('(') => (None, Some(rest)),
        Some((word, more)) if is_errno(word) => (Some(word), Some(more.trim())),
        None if is_errno(rest) => (Some(rest), None),
        _ => (None, Some(rest)),
    };
    Ok(Call {
        tid,
        ts,
        name,
        args,
        ret,
        ret_tag,
        errno,
        extra,
        dur,
    })
}

fn is_errno(word: &str) -> bool {
    word.len() > 1
        && word.starts_with('E')
        && word
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// `1234 ` (strace -f -o) or `[pid  1234] ` (strace -f to a terminal).
fn thread_id(text: &str) -> (Option<u32>, &str) {
    if let Some(after) = text.strip_prefix("[pid") {
        if let Some((n, rest)) = after.split_once(']') {
            if let Ok(tid) = n.trim().parse() {
                return (Some(tid), rest.trim_start());
            }
        }
        return (None, text);
    }
    // A pid is digits then a space; a -ttt timestamp is digits then a dot.
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && text.as_bytes().get(digits) == Some(&b' ') {
        if let Ok(tid) = text[..digits].parse() {
            return (Some(tid), text[digits..].trim_start());
        }
    }
    (None, text)
}

/// Whether a line's timestamp is a time of day (`strace -tt`: `12:00:00.000101`)
/// rather than seconds since the epoch (`-ttt`): which [`Clock`] reads the trace.
pub fn time_of_day(text: &str) -> bool {
    let (_, rest) = thread_id(text.trim_start());
    rest.split(' ')
        .next()
        .is_some_and(|stamp| stamp.contains(':') && stamp.contains('.'))
}

/// The timestamp and the rest of the line.
fn timestamp(text: &str, clock: Clock) -> Option<(u64, &str)> {
    let (stamp, rest) = text.split_once(' ')?;
    let (whole, frac) = stamp.split_once('.')?;
    let micros = fraction_micros(frac)?;
    let ts = match clock {
        Clock::Epoch => {
            if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            whole.parse::<u64>().ok()?.checked_mul(1_000_000)?
        }
        Clock::Day(midnight) => {
            let mut parts = whole.split(':');
            let mut secs = 0u64;
            for _ in 0..3 {
                let p = parts.next()?;
                if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                secs = secs * 60 + p.parse::<u64>().ok()?;
            }
            if parts.next().is_some() {
                return None;
            }
            midnight.checked_add(secs.checked_mul(1_000_000)?)?
        }
    };
    Some((ts.checked_add(micros)?, rest))
}

/// `123456` → 123456 µs; `123456789` (nanoseconds) → 123456; at most 9 digits.
fn fraction_micros(frac: &str) -> Option<u64> {
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = frac.parse().ok()?;
    let scale = 10u64.pow(frac.len() as u32);
    Some(n * 1_000_000 / scale)
}

/// Strips a trailing ` <0.000015>` (-T), giving the microseconds.
fn duration(text: &str) -> (&str, Option<u64>) {
    let t = text.trim_end();
    if let Some(inner) = t.strip_suffix('>') {
        if let Some(open) = inner.rfind('<') {
            let d = &inner[open + 1..];
            if let Some((s, f)) = d.split_once('.') {
                if let (Ok(s), Some(f)) = (s.parse::<u64>(), fraction_micros(f)) {
                    return (&t[..open], s.checked_mul(1_000_000).map(|x| x + f));
                }
            }
        }
    }
    (t, None)
}

/// Decimal or 0x hexadecimal.
fn integer(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as i64);
    }
    text.parse().ok()
}

/// Splits `a, {b, c}, "d,e")...` at its top-level commas up to the closing `)`; gives
/// the arguments and the index of that `)`.
fn split_args(text: &str) -> Result<(Vec<&str>, usize), ParseError> {
    let bytes = text.as_bytes();
    // Nesting depth is bounded by the line's length, which the reader bounds.
    let mut stack: Vec<u8> = Vec::new();
    let mut args = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                if i >= bytes.len() {
                    return Err(ParseError::Unbalanced);
                }
            }
            b'(' | b'[' | b'{' => stack.push(b),
            // An fd's -yy annotation follows its digits: `5<TCP:[...]>`.
            b'<' if i > 0 && bytes[i - 1].is_ascii_digit() => stack.push(b),
            b'>' if stack.last() == Some(&b'<') => {
                stack.pop();
            }
            b']' | b'}' => {
                let open = if b == b']' { b'[' } else { b'{' };
                if stack.pop() != Some(open) {
                    return Err(ParseError::Unbalanced);
                }
            }
            b')' if stack.is_empty() => {
                let last = text[start..i].trim();
                if !last.is_empty() || !args.is_empty() {
                    args.push(last);
                }
                return Ok((args, i));
            }
            b')' if stack.pop() != Some(b'(') => return Err(ParseError::Unbalanced),
            b',' if stack.is_empty() => {
                args.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    Err(ParseError::Unbalanced)
}

/// Index of the `>` closing the `<` at 0, skipping `[...]` (whose `->` has a `>`).
fn matching_angle(text: &str) -> Option<usize> {
    let mut square = 0usize;
    for (i, b) in text.bytes().enumerate().skip(1) {
        match b {
            b'[' => square += 1,
            b']' => square = square.saturating_sub(1),
            b'>' if square == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// An fd argument: `5` or `5<TCP:[...]>` → (5, the annotation).
pub fn fd(arg: &str) -> Option<(i64, Option<&str>)> {
    let digits = arg.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n = arg[..digits].parse().ok()?;
    let rest = &arg[digits..];
    if rest.is_empty() {
        return Some((n, None));
    }
    let close = matching_angle(rest)?;
    Some((n, Some(&rest[1..close])))
}

/// Transport of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Tcp,
    Udp,
}

/// What a `-yy` annotation says about a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SockTag {
    pub transport: Transport,
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
}

/// `TCP:[10.55.0.1:5005->10.55.0.2:41000]`, `TCPv6:[[::1]:5005]`, `UDP:[1234]` (an inode:
/// not bound yet). Other annotations (files, pipes) give `None`.
pub fn sock_tag(tag: &str) -> Option<SockTag> {
    let (kind, inner) = tag.split_once(":[")?;
    let transport = match kind {
        "TCP" | "TCPv6" => Transport::Tcp,
        "UDP" | "UDPv6" => Transport::Udp,
        _ => return None,
    };
    let inner = inner.strip_suffix(']')?;
    let (local, remote) = match inner.split_once("->") {
        Some((l, r)) => (l.parse().ok(), r.parse().ok()),
        None => (inner.parse().ok(), None),
    };
    Some(SockTag {
        transport,
        local,
        remote,
    })
}

/// `{sa_family=AF_INET, sin_port=htons(5006), sin_addr=inet_addr("127.0.0.1")}` or the
/// AF_INET6 form with `inet_pton(AF_INET6, "::1", &sin6_addr)`.
pub fn sockaddr(arg: &str) -> Option<SocketAddr> {
    let port_at = arg.find("port=htons(")? + "port=htons(".len();
    let port: u16 = arg[port_at..].split(')').next()?.parse().ok()?;
    let ip: IpAddr = if let Some(at) = arg.find("inet_addr(\"") {
        let s = &arg[at + "inet_addr(\"".len()..];
        s.split('"').next()?.parse().ok()?
    } else {
        let at = arg.find("inet_pton(AF_INET6, \"")? + "inet_pton(AF_INET6, \"".len();
        arg[at..].split('"').next()?.parse().ok()?
    };
    Some(SocketAddr::new(ip, port))
}

/// Every `NAME=N` in an argument (e.g. `iov_len=100009`, `u64=5`), at most `max`.
pub fn fields(arg: &str, name: &str, max: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let key = format!("{name}=");
    let mut rest = arg;
    while let Some(at) = rest.find(&key) {
        // Only whole names: `u64=` must not match inside `xu64=`.
        let whole = at == 0 || !rest.as_bytes()[at - 1].is_ascii_alphanumeric();
        rest = &rest[at + key.len()..];
        if !whole {
            continue;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(v) = rest[..digits].parse() {
            if out.len() >= max {
                break;
            }
            out.push(v);
        }
    }
    out
}

/// Microseconds since the epoch of `YYYY-MM-DD` 00:00 UTC (for `-tt` traces).
pub fn midnight(date: &str) -> Option<u64> {
    let mut it = date.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1970 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days).ok()?.checked_mul(86_400_000_000)
}

#[cfg(test)]
mod tests;
