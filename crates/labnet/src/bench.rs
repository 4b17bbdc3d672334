//! `labnet bench`: a one-thread mio load generator. Each connection pipelines up to
//! `window` messages, checks every echo byte for byte against what it sent, and
//! records each message's round-trip time (from queueing to the last echo byte).

use crate::error::{plain, NetError};
use labproto::Proto;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub proto: Proto,
    pub server: SocketAddr,
    pub conns: usize,
    /// Messages per connection.
    pub messages: u64,
    /// Message text length in bytes (v2 carries at most 20 of them).
    pub size: usize,
    /// Messages in flight per connection.
    pub window: usize,
    /// Give up (and report what is missing) after this long.
    pub timeout: Duration,
    /// Pace each connection to one message per interval (the scale test: many slow
    /// clients) instead of sending as fast as the window allows.
    pub interval: Option<Duration>,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub config_proto: Proto,
    pub conns: usize,
    pub connected: usize,
    pub failed_conns: u64,
    pub sent: u64,
    pub echoed: u64,
    pub mismatches: u64,
    pub elapsed: Duration,
    /// Round-trip times in microseconds, sorted.
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl BenchReport {
    pub fn messages_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.echoed as f64 / secs
        } else {
            0.0
        }
    }

    /// Everything went right: every message echoed, byte for byte.
    pub fn ok(&self, expected: u64) -> bool {
        self.mismatches == 0 && self.failed_conns == 0 && self.echoed == expected
    }

    pub fn to_json(&self, config: &BenchConfig) -> String {
        format!(
            "{{\"proto\":\"{}\",\"server\":\"{}\",\"conns\":{},\"messages_per_conn\":{},\"size\":{},\"window\":{},\
             \"connected\":{},\"failed_conns\":{},\"sent\":{},\"echoed\":{},\"mismatches\":{},\
             \"elapsed_s\":{:.6},\"msgs_per_s\":{:.1},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}}}",
            config.proto,
            config.server,
            config.conns,
            config.messages,
            config.size,
            config.window,
            self.connected,
            self.failed_conns,
            self.sent,
            self.echoed,
            self.mismatches,
            self.elapsed.as_secs_f64(),
            self.messages_per_sec(),
            self.p50_us,
            self.p99_us,
            self.max_us
        )
    }

    pub fn to_text(&self, config: &BenchConfig) -> String {
        let expected = config.conns as u64 * config.messages;
        format!(
            "bench: {} to {}, {} connections x {} messages of {} bytes, window {}\n\
             \x20 connected    {} of {}\n\
             \x20 echoed       {} of {} messages ({} mismatches, {} failed connections)\n\
             \x20 elapsed      {:.3} s\n\
             \x20 throughput   {:.0} messages/s\n\
             \x20 latency      p50 {} us   p99 {} us   max {} us",
            config.proto,
            config.server,
            config.conns,
            config.messages,
            config.size,
            config.window,
            self.connected,
            config.conns,
            self.echoed,
            expected,
            self.mismatches,
            self.failed_conns,
            self.elapsed.as_secs_f64(),
            self.messages_per_sec(),
            self.p50_us,
            self.p99_us,
            self.max_us
        )
    }
}

/// A message in flight: when it was queued, echo bytes still due, whether any differed.
struct InFlight {
    queued_at: Instant,
    remaining: usize,
    mismatch: bool,
}

struct BenchConn {
    id: usize,
    stream: TcpStream,
    connected: bool,
    failed: bool,
    next_order: u32,
    queued: u64,
    echoed: u64,
    out: Vec<u8>,
    written: usize,
    /// Bytes sent whose echo has not fully arrived, in order; `expect[expect_pos..]`.
    expect: Vec<u8>,
    expect_pos: usize,
    in_flight: VecDeque<InFlight>,
}

/// The text of message `order` on connection `id`: varies with both, so a reply sent
/// to the wrong connection or out of order is caught.
pub fn payload(id: usize, order: u32, size: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(size);
    payload_into(&mut text, id, order, size);
    text
}

/// [`payload`] into a reused buffer (cleared first): the load generator must not
/// spend its time allocating, or it measures itself instead of the server.
pub fn payload_into(text: &mut Vec<u8>, id: usize, order: u32, size: usize) {
    const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    text.clear();
    let mut start = (id * 7 + order as usize) % 26;
    while text.len() < size {
        let take = (26 - start).min(size - text.len());
        text.extend_from_slice(&ALPHABET[start..start + take]);
        start = 0;
    }
}

/// Append message `order` with text `text` to `out` exactly as
/// `Message::new(proto, 1, order, text)?.encode()` would, without allocating.
fn encode_into(
    proto: Proto,
    order: u32,
    text: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), labproto::Error> {
    match proto {
        Proto::Text => out.extend_from_slice(text),
        Proto::V2 => out.extend_from_slice(&labproto::v2::Repr::new(1, order, text).to_bytes()),
        Proto::V3 => labproto::v3::Repr {
            version: 1,
            order,
            payload: text,
        }
        .emit_to_vec(out)?,
    }
    Ok(())
}

/// Open the connections and run to completion (or the timeout).
pub fn run_bench(config: &BenchConfig) -> Result<BenchReport, NetError> {
    let mut poll = Poll::new().map_err(poll_err)?;
    let (mut conns, failed) = connect_all(config, &poll)?;
    let mut run = Run::start(config, conns.len(), failed);
    let mut events = Events::with_capacity(4096);
    while run.active > 0 && Instant::now() < run.deadline {
        let tick = if config.interval.is_some() { 20 } else { 200 };
        let wait = run
            .deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(tick));
        if let Err(e) = poll.poll(&mut events, Some(wait)) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(poll_err(e));
        }
        let now = Instant::now();
        for (id, read_to_end) in ready(&events, &conns, config, run.start, now) {
            let Some(conn) = conns.get_mut(id) else {
                continue;
            };
            run.serve(conn, config, read_to_end, now, poll.registry());
        }
    }
    run.report(config, &conns)
}

fn poll_err(source: io::Error) -> NetError {
    NetError::Poll { source }
}

/// Start connecting all `config.conns` connections (non-blocking), each registered
/// with `poll`: the connections, and how many could not even start. The first one
/// failing is an error: the server is not there.
fn connect_all(config: &BenchConfig, poll: &Poll) -> Result<(Vec<BenchConn>, u64), NetError> {
    let mut conns = Vec::with_capacity(config.conns);
    let mut failed = 0u64;
    for id in 0..config.conns {
        match TcpStream::connect(config.server) {
            Ok(mut stream) => {
                poll.registry()
                    .register(
                        &mut stream,
                        Token(id),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .map_err(poll_err)?;
                let _ = stream.set_nodelay(true);
                conns.push(BenchConn {
                    id,
                    stream,
                    connected: false,
                    failed: false,
                    next_order: 1,
                    queued: 0,
                    echoed: 0,
                    out: Vec::new(),
                    written: 0,
                    expect: Vec::new(),
                    expect_pos: 0,
                    in_flight: VecDeque::new(),
                });
            }
            Err(e) => {
                if id == 0 {
                    return Err(NetError::Connect {
                        addr: config.server,
                        source: e,
                    });
                }
                report_failure(failed, &format!("connection {id}: {}", plain(&e)));
                failed += 1;
            }
        }
    }
    Ok((conns, failed))
}

/// The connections with work after a poll, each with whether to read to WouldBlock.
fn ready(
    events: &Events,
    conns: &[BenchConn],
    config: &BenchConfig,
    start: Instant,
    now: Instant,
) -> Vec<(usize, bool)> {
    // (connection, read to WouldBlock): a short read empties a socket, and bytes
    // arriving after it raise a new edge; but a reported FIN or error, or a paced
    // wake-up, reads to the end.
    let mut ready: Vec<(usize, bool)> = events
        .iter()
        .map(|e| (e.token().0, e.is_read_closed() || e.is_error()))
        .collect();
    if config.interval.is_some() {
        // Paced connections have work when their next message falls due, not
        // only when a socket is ready.
        ready.extend(
            conns
                .iter()
                .filter(|c| c.connected && !c.failed && c.queued < allowed(c, config, start, now))
                .map(|c| (c.id, true)),
        );
    }
    ready
}

/// A run in progress: its clock, what it measured so far, and how many connections
/// are still going.
struct Run {
    start: Instant,
    deadline: Instant,
    /// Round-trip times in microseconds, in arrival order.
    latencies: Vec<u64>,
    mismatches: u64,
    scratch: Scratch,
    /// Connections neither failed nor done.
    active: usize,
    failed: u64,
    last_echo: Instant,
    first_connect_error: Option<io::Error>,
}

impl Run {
    /// The clock starts now, once every connection is started.
    fn start(config: &BenchConfig, conns: usize, failed: u64) -> Run {
        let start = Instant::now();
        Run {
            start,
            deadline: start + config.timeout,
            latencies: Vec::with_capacity(config.conns * config.messages as usize),
            mismatches: 0,
            scratch: Scratch {
                read: vec![0u8; 256 * 1024],
                text: Vec::with_capacity(config.size),
            },
            active: conns,
            failed,
            last_echo: start,
            first_connect_error: None,
        }
    }

    /// Drive one ready connection; a failed or finished one leaves the poll.
    fn serve(
        &mut self,
        conn: &mut BenchConn,
        config: &BenchConfig,
        read_to_end: bool,
        now: Instant,
        registry: &Registry,
    ) {
        if conn.failed || conn.echoed == config.messages {
            return;
        }
        let before = conn.echoed;
        let due = allowed(conn, config, self.start, now);
        let result = drive(
            conn,
            config,
            due,
            read_to_end,
            &mut self.scratch,
            &mut self.latencies,
            &mut self.mismatches,
        );
        if conn.echoed > before {
            self.last_echo = Instant::now();
        }
        if let Err(e) = result {
            report_failure(self.failed, &format!("connection {}: {e}", conn.id));
            if self.first_connect_error.is_none() {
                if let ConnFailure::Connect(io) = e {
                    self.first_connect_error = Some(io);
                }
            }
            conn.failed = true;
            self.failed += 1;
            self.active -= 1;
            let _ = registry.deregister(&mut conn.stream);
        } else if conn.echoed == config.messages {
            self.active -= 1;
            let _ = registry.deregister(&mut conn.stream);
            let _ = conn.stream.shutdown(std::net::Shutdown::Both);
        }
    }

    /// The figures of the finished run; an error when not one connection connected.
    fn report(
        mut self,
        config: &BenchConfig,
        conns: &[BenchConn],
    ) -> Result<BenchReport, NetError> {
        if let (true, Some(source)) = (conns.iter().all(|c| !c.connected), self.first_connect_error)
        {
            // Not one connection worked: that is a connect error, not a benchmark result.
            return Err(NetError::Connect {
                addr: config.server,
                source,
            });
        }
        let latencies = &mut self.latencies;
        latencies.sort_unstable();
        let pct = |p: f64| -> u64 {
            if latencies.is_empty() {
                return 0;
            }
            let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i]
        };
        Ok(BenchReport {
            config_proto: config.proto,
            conns: config.conns,
            connected: conns.iter().filter(|c| c.connected).count(),
            failed_conns: self.failed,
            sent: conns.iter().map(|c| c.queued).sum(),
            echoed: conns.iter().map(|c| c.echoed).sum(),
            mismatches: self.mismatches,
            elapsed: self.last_echo - self.start,
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            max_us: latencies.last().copied().unwrap_or(0),
        })
    }
}

/// Failures shown on stderr before the rest are only counted (10,000 refused
/// connections must not print 10,000 lines).
const FAILURES_SHOWN: u64 = 5;

fn report_failure(already_failed: u64, text: &str) {
    if already_failed < FAILURES_SHOWN {
        eprintln!("labnet bench: {text}");
    } else if already_failed == FAILURES_SHOWN {
        eprintln!("labnet bench: more connections failed; only their number is reported");
    }
}

/// Why one benchmark connection gave up.
#[derive(Debug, thiserror::Error)]
enum ConnFailure {
    #[error("connect failed: {}", plain(.0))]
    Connect(io::Error),
    #[error("{}", plain(.0))]
    Io(io::Error),
    #[error("server closed the connection with {0} messages still unanswered")]
    Closed(usize),
    #[error("server sent {0} bytes nobody asked for")]
    Unexpected(usize),
    #[error("message {order} cannot be encoded: {source}")]
    Encode { order: u32, source: labproto::Error },
}

/// How many messages connection `conn` may have queued by `now`: all of them, or
/// with pacing one per interval, each connection shifted by a fraction of the
/// interval so that 10,000 connections do not all send in the same instant.
fn allowed(conn: &BenchConn, config: &BenchConfig, start: Instant, now: Instant) -> u64 {
    let Some(interval) = config.interval else {
        return config.messages;
    };
    let phase = interval.mul_f64((conn.id % 1000) as f64 / 1000.0);
    let since = now.saturating_duration_since(start);
    if since < phase {
        return 0;
    }
    let due = 1 + (since - phase).as_nanos() / interval.as_nanos().max(1);
    u64::try_from(due).unwrap_or(u64::MAX).min(config.messages)
}

/// Buffers shared by all connections of a run.
struct Scratch {
    read: Vec<u8>,
    /// The text of the message being encoded.
    text: Vec<u8>,
}

/// React to readiness: finish connecting, read and check echoes, send more (up to
/// `due` messages queued in all).
fn drive(
    conn: &mut BenchConn,
    config: &BenchConfig,
    due: u64,
    read_to_end: bool,
    scratch: &mut Scratch,
    latencies: &mut Vec<u64>,
    mismatches: &mut u64,
) -> Result<(), ConnFailure> {
    if !conn.connected {
        if let Some(e) = conn.stream.take_error().map_err(ConnFailure::Connect)? {
            return Err(ConnFailure::Connect(e));
        }
        match conn.stream.peer_addr() {
            Ok(_) => conn.connected = true,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(()),
            Err(e) => return Err(ConnFailure::Connect(e)),
        }
    }
    loop {
        match conn.stream.read(&mut scratch.read) {
            Ok(0) => return Err(ConnFailure::Closed(conn.in_flight.len())),
            Ok(n) => {
                check_echo(conn, &scratch.read[..n], latencies, mismatches)?;
                if n < scratch.read.len() && !read_to_end {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ConnFailure::Io(e)),
        }
    }
    // One clock reading for the whole batch queued now (they leave together).
    let queued_at = Instant::now();
    while conn.in_flight.len() < config.window && conn.queued < due {
        let order = conn.next_order;
        let text = &mut scratch.text;
        payload_into(text, conn.id, order, config.size);
        let start = conn.out.len();
        encode_into(config.proto, order, text, &mut conn.out)
            .map_err(|source| ConnFailure::Encode { order, source })?;
        let wire = &conn.out[start..];
        conn.expect.extend_from_slice(wire);
        conn.in_flight.push_back(InFlight {
            queued_at,
            remaining: wire.len(),
            mismatch: false,
        });
        conn.next_order = order.wrapping_add(1);
        conn.queued += 1;
    }
    while conn.written < conn.out.len() {
        match conn.stream.write(&conn.out[conn.written..]) {
            Ok(n) => conn.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ConnFailure::Io(e)),
        }
    }
    if conn.written == conn.out.len() {
        conn.out.clear();
        conn.written = 0;
    }
    Ok(())
}

/// Compare echo bytes with what was sent, completing in-flight messages in order.
fn check_echo(
    conn: &mut BenchConn,
    mut data: &[u8],
    latencies: &mut Vec<u64>,
    mismatches: &mut u64,
) -> Result<(), ConnFailure> {
    // One clock reading for every echo completed by these bytes (they arrived together).
    let arrived = Instant::now();
    while !data.is_empty() {
        let Some(front) = conn.in_flight.front_mut() else {
            return Err(ConnFailure::Unexpected(data.len()));
        };
        let k = front.remaining.min(data.len());
        if data[..k] != conn.expect[conn.expect_pos..conn.expect_pos + k] {
            front.mismatch = true;
        }
        front.remaining -= k;
        conn.expect_pos += k;
        data = &data[k..];
        if front.remaining == 0 {
            let latency = arrived
                .saturating_duration_since(front.queued_at)
                .as_micros() as u64;
            if front.mismatch {
                *mismatches += 1;
            }
            latencies.push(latency);
            conn.in_flight.pop_front();
            conn.echoed += 1;
        }
    }
    if conn.expect_pos == conn.expect.len() {
        conn.expect.clear();
        conn.expect_pos = 0;
    } else if conn.expect_pos > conn.expect.len() / 2 {
        // With a full window something is always in flight: compact now and then.
        conn.expect.drain(..conn.expect_pos);
        conn.expect_pos = 0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use labproto::Message;

    #[test]
    fn payload_cycles_the_alphabet_from_id_and_order() {
        let formula = |id: usize, order: u32, size: usize| -> Vec<u8> {
            (0..size)
                .map(|i| b'a' + ((id * 7 + order as usize + i) % 26) as u8)
                .collect()
        };
        for (id, order, size) in [(0, 1, 0), (3, 5, 32), (999, 77, 100), (1, 25, 27)] {
            assert_eq!(payload(id, order, size), formula(id, order, size));
        }
        assert_eq!(payload(0, 1, 5), b"bcdef");
    }

    #[test]
    fn encode_into_writes_what_message_encode_writes() {
        for proto in [Proto::Text, Proto::V2, Proto::V3] {
            for size in [0, 5, 20, 32, 300] {
                let text = payload(4, 9, size);
                let mut out = b"prefix".to_vec();
                encode_into(proto, 9, &text, &mut out).unwrap();
                let expected = Message::new(proto, 1, 9, &text).unwrap().encode();
                assert_eq!(&out[6..], &expected[..], "{proto} size {size}");
            }
        }
    }
}
