//! Socket helpers for the checks, each bounded in time: reads carry a deadline set as
//! the socket's read timeout, so a silent peer costs at most that long.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How a bounded read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// All the bytes asked for arrived.
    Complete,
    /// The peer closed (FIN) first.
    Eof,
    /// The deadline passed first.
    Timeout,
    /// The connection was reset (RST) or failed otherwise.
    Error(ErrorKind),
}

/// The bytes a bounded read got, how it ended and how long it took.
#[derive(Debug, Clone)]
pub struct Got {
    pub bytes: Vec<u8>,
    pub end: End,
    pub elapsed: Duration,
}

impl Got {
    pub fn complete(&self) -> bool {
        self.end == End::Complete
    }
}

/// Connect with a timeout, Nagle off: every `write` the checks make leaves as its own
/// segment, so a split message really arrives in two pieces.
pub fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    Ok(stream)
}

/// Read until `n` bytes arrived, the peer closed, or `within` passed.
pub fn read_n(stream: &mut TcpStream, n: usize, within: Duration) -> Got {
    let start = Instant::now();
    let deadline = start + within;
    let mut bytes = Vec::with_capacity(n.min(1 << 20));
    let mut chunk = vec![0u8; 64 * 1024];
    let end = loop {
        if bytes.len() >= n {
            break End::Complete;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break End::Timeout;
        }
        if let Err(e) = stream.set_read_timeout(Some(left)) {
            break End::Error(e.kind());
        }
        let want = (n - bytes.len()).min(chunk.len());
        match stream.read(&mut chunk[..want]) {
            Ok(0) => break End::Eof,
            Ok(k) => bytes.extend_from_slice(&chunk[..k]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break End::Timeout
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break End::Error(e.kind()),
        }
    };
    Got {
        bytes,
        end,
        elapsed: start.elapsed(),
    }
}

/// Read whatever arrives within `within` (for "nothing must come back").
pub fn read_any(stream: &mut TcpStream, within: Duration) -> Got {
    read_n(stream, usize::MAX, within)
}

/// Write all of `bytes`; the error kind on failure.
pub fn send(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), ErrorKind> {
    stream.write_all(bytes).map_err(|e| e.kind())
}

/// Bytes as hex pairs, at most `max` of them, then how many there were in all.
pub fn hex(bytes: &[u8], max: usize) -> String {
    let shown: Vec<String> = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    let mut out = shown.join(" ");
    if bytes.len() > max {
        out.push_str(&format!(" … ({} bytes)", bytes.len()));
    }
    if bytes.is_empty() {
        out.push_str("nothing");
    }
    out
}

/// Milliseconds, for evidence strings.
pub fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1000.0;
    if m < 10.0 {
        format!("{m:.1} ms")
    } else {
        format!("{m:.0} ms")
    }
}

/// How a read ended, in words.
pub fn ending(got: &Got) -> String {
    match got.end {
        End::Complete => format!("after {}", ms(got.elapsed)),
        End::Eof => format!(
            "then the server closed the connection ({})",
            ms(got.elapsed)
        ),
        End::Timeout => format!("then nothing more for {}", ms(got.elapsed)),
        End::Error(ErrorKind::ConnectionReset) => {
            format!("then the connection was reset ({})", ms(got.elapsed))
        }
        End::Error(k) => format!("then the read failed: {k} ({})", ms(got.elapsed)),
    }
}
