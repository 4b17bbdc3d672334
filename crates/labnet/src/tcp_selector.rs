//! The selector model (serverTCPsel.py, exercise 3): one thread, one mio event loop.
//! Each connection is registered under a `Token` — the Rust counterpart of a Python
//! selector key — and owns a read buffer (its framer) and a write buffer. Sockets are
//! non-blocking: a reply that cannot be written at once waits in the write buffer and
//! the token asks for WRITABLE events, so a slow reader never blocks anyone else.

use crate::connection::Connection;
use crate::error::{plain, NetError};
use crate::log::Log;
use crate::server::{banner, close_summary, counted, ServerHandle, TcpServerConfig, STOP_CHECK};
use crate::trace_events::{record, Call, Sock, TraceEvents};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The listening socket's token, like the key whose `data` is None in the Python code.
const LISTENER: Token = Token(0);

/// Log label of a token: `selector token 3`.
struct TokenLabel(Token);

impl std::fmt::Display for TokenLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "selector token {}", self.0 .0)
    }
}

/// One registered client.
struct Client {
    stream: TcpStream,
    peer: SocketAddr,
    conn: Connection,
    /// Echo bytes not yet accepted by the kernel; `out[written..]` is pending.
    out: Vec<u8>,
    written: usize,
    /// The client closed its sending side; we close once the echoes are out.
    peer_done: bool,
    /// Interest currently registered, to re-register only on change.
    wants_write: bool,
    /// `--trace-events`: this socket's identity and where its calls go.
    sock: Sock,
    trace: Option<TraceEvents>,
}

impl Client {
    fn pending_out(&self) -> usize {
        self.out.len() - self.written
    }
}

pub fn start(config: TcpServerConfig, stop: Arc<AtomicBool>) -> Result<ServerHandle, NetError> {
    let (std_listener, local) = crate::sockets::nonblocking_tcp_listener(config.bind)?;
    let mut listener = TcpListener::from_std(std_listener);
    let poll = Poll::new().map_err(|source| NetError::Poll { source })?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)
        .map_err(|source| NetError::Poll { source })?;
    config.log.event(
        &TokenLabel(LISTENER),
        format_args!("{}", banner(&config, local)),
    );
    let stop_flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("selector".into())
        .spawn(move || EventLoop::new(poll, listener, local, config).run(&stop_flag))
        .map_err(|source| NetError::Io {
            what: "starting the selector thread",
            addr: local,
            source,
        })?;
    Ok(ServerHandle::new(local, stop, thread))
}

struct EventLoop {
    poll: Poll,
    listener: TcpListener,
    local: SocketAddr,
    config: TcpServerConfig,
    clients: HashMap<Token, Client>,
    next_token: usize,
    /// Scratch read buffer shared by all connections (data is moved into framers).
    read_buf: Vec<u8>,
    messages: Vec<labproto::Message>,
    /// Tokens with bytes possibly still unread after their read budget ran out (or
    /// the listener, with clients possibly still waiting after the accept budget).
    unfinished: Vec<Token>,
}

impl EventLoop {
    fn new(poll: Poll, listener: TcpListener, local: SocketAddr, config: TcpServerConfig) -> Self {
        EventLoop {
            poll,
            listener,
            local,
            config,
            clients: HashMap::new(),
            next_token: 1,
            read_buf: vec![0u8; 64 * 1024],
            messages: Vec::new(),
            unfinished: Vec::new(),
        }
    }

    fn log(&self) -> &Log {
        &self.config.log
    }

    fn run(mut self, stop: &AtomicBool) -> Result<(), NetError> {
        let mut events = Events::with_capacity(1024);
        while !stop.load(Ordering::SeqCst) {
            // The timeout is what lets Ctrl-C stop an idle loop.
            let timeout = if self.unfinished.is_empty() {
                STOP_CHECK
            } else {
                std::time::Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(NetError::Poll { source: e });
            }
            // Connections that used up their read budget last round go first; they
            // get no new edge from the kernel, so they are remembered here.
            for token in std::mem::take(&mut self.unfinished) {
                if token == LISTENER {
                    self.accept_all();
                } else {
                    self.handle(token, Readiness::ReadToEnd);
                }
            }
            for event in events.iter() {
                if event.token() == LISTENER {
                    self.accept_all();
                } else {
                    if let Some(c) = self.clients.get(&event.token()) {
                        record(c.trace.as_ref(), &c.sock, Call::Ready, None);
                    }
                    let readiness = if event.is_read_closed() || event.is_error() {
                        // The FIN (or an error) is already here: read up to it.
                        Readiness::ReadToEnd
                    } else if event.is_readable() {
                        Readiness::Read {
                            writable: event.is_writable(),
                        }
                    } else {
                        Readiness::Write
                    };
                    self.handle(event.token(), readiness);
                }
            }
        }
        let tokens: Vec<Token> = self.clients.keys().copied().collect();
        self.log().event(
            &TokenLabel(LISTENER),
            format_args!(
                "stopping: closing {}",
                counted(
                    tokens.len() as u64,
                    "client connection",
                    "client connections"
                )
            ),
        );
        for token in tokens {
            self.close(token, "server (shutting down)");
        }
        self.log().event(
            &TokenLabel(LISTENER),
            format_args!("stopped listening on {}", self.local),
        );
        Ok(())
    }

    /// Accept waiting clients, at most [`ACCEPT_BUDGET`] per turn: a connect flood
    /// must not keep the loop from the clients already connected.
    fn accept_all(&mut self) {
        for _ in 0..ACCEPT_BUDGET {
            match self.listener.accept() {
                Ok((mut stream, peer)) => {
                    let token = Token(self.next_token);
                    self.next_token += 1;
                    if let Err(e) =
                        self.poll
                            .registry()
                            .register(&mut stream, token, Interest::READABLE)
                    {
                        self.log().event(
                            &TokenLabel(LISTENER),
                            format_args!("cannot register {peer}: {}; closing it", plain(&e)),
                        );
                        continue;
                    }
                    self.log().event(
                        &TokenLabel(token),
                        format_args!(
                            "accepted {peer} (client's ephemeral port {}), registered as token {}",
                            peer.port(),
                            token.0
                        ),
                    );
                    let conn =
                        Connection::new(self.config.proto, self.config.max_size, self.config.echo);
                    let trace = self.config.log.trace().cloned();
                    // The local address is only written to the trace: no getsockname()
                    // per accept without one (as in the threads model).
                    let local = trace.as_ref().and_then(|_| stream.local_addr().ok());
                    let sock = Sock::of(&stream, local, Some(peer), Some(token.0));
                    record(trace.as_ref(), &sock, Call::Accept, None);
                    self.clients.insert(
                        token,
                        Client {
                            stream,
                            peer,
                            conn,
                            out: Vec::new(),
                            written: 0,
                            peer_done: false,
                            wants_write: false,
                            sock,
                            trace,
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // E.g. out of file descriptors: keep serving the clients we have.
                    self.log().event(
                        &TokenLabel(LISTENER),
                        format_args!("accept failed: {}", plain(&e)),
                    );
                    return;
                }
            }
        }
        // Budget used up: more may be waiting, and edge-triggered mio will not say so
        // again; come back after the others.
        if !self.unfinished.contains(&LISTENER) {
            self.unfinished.push(LISTENER);
        }
    }

    /// One readiness event for a client; closes it when it is done or misbehaves.
    fn handle(&mut self, token: Token, readiness: Readiness) {
        let outcome = match self.clients.get_mut(&token) {
            None => return,
            Some(client) => step(
                client,
                token,
                readiness,
                &mut self.read_buf,
                &mut self.messages,
                &self.config,
            ),
        };
        match outcome {
            Step::KeepOpen => self.update_interest(token),
            Step::ReadAgain => {
                if !self.unfinished.contains(&token) {
                    self.unfinished.push(token);
                }
                self.update_interest(token);
            }
            Step::Close(by) => self.close(token, by),
        }
    }

    fn update_interest(&mut self, token: Token) {
        let Some(client) = self.clients.get_mut(&token) else {
            return;
        };
        let wants_write = client.pending_out() > 0;
        if wants_write == client.wants_write {
            return;
        }
        let interest = if wants_write {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let result = self
            .poll
            .registry()
            .reregister(&mut client.stream, token, interest);
        client.wants_write = wants_write;
        if let Err(e) = result {
            let text = format!("cannot change interest: {}", plain(&e));
            self.config
                .log
                .event(&TokenLabel(token), format_args!("{text}"));
            self.close(token, "server (event loop error)");
        }
    }

    fn close(&mut self, token: Token, closed_by: &str) {
        if let Some(mut client) = self.clients.remove(&token) {
            let _ = self.poll.registry().deregister(&mut client.stream);
            let _ = client.stream.shutdown(std::net::Shutdown::Both);
            record(client.trace.as_ref(), &client.sock, Call::Shutdown, None);
            self.config.log.event(
                &TokenLabel(token),
                format_args!(
                    "{} ({})",
                    close_summary(closed_by, &client.conn),
                    client.peer
                ),
            );
            let (trace, sock) = (client.trace.take(), client.sock);
            drop(client);
            record(trace.as_ref(), &sock, Call::Close, None);
        }
    }
}

/// What a readiness event allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    /// New bytes arrived. A read shorter than the buffer emptied the socket; bytes or
    /// a FIN arriving after it raise a new edge, so no extra read that could only
    /// return WouldBlock is needed (one syscall fewer per request in a ping-pong).
    Read {
        writable: bool,
    },
    /// Read until the end or WouldBlock: the FIN or an error was reported, or the
    /// connection is resumed after its read budget ran out.
    ReadToEnd,
    Write,
}

enum Step {
    KeepOpen,
    /// Read budget used up with data maybe left: come back after the others.
    ReadAgain,
    Close(&'static str),
}

/// Read everything available, frame it, queue echoes, write what the kernel takes.
fn step(
    client: &mut Client,
    token: Token,
    readiness: Readiness,
    read_buf: &mut [u8],
    messages: &mut Vec<labproto::Message>,
    config: &TcpServerConfig,
) -> Step {
    let label = TokenLabel(token);
    let readable = readiness != Readiness::Write;
    let writable = matches!(
        readiness,
        Readiness::Read { writable: true } | Readiness::Write
    ) || readiness == Readiness::ReadToEnd;
    let mut after_read = Step::KeepOpen;
    if readable && !client.peer_done {
        after_read = read_available(client, &label, readiness, read_buf, messages, config);
        if matches!(after_read, Step::Close(_)) {
            return after_read;
        }
    }
    if writable && client.pending_out() > 0 {
        if let Err(e) = flush(client) {
            config.log.event(
                &label,
                format_args!("writing the echo failed: {}", plain(&e)),
            );
            return Step::Close("client (while we were writing)");
        }
    }
    if client.peer_done && client.pending_out() == 0 {
        return Step::Close("client");
    }
    after_read
}

/// Read until WouldBlock or the client's FIN, taking in each read as it comes:
/// KeepOpen, ReadAgain when the read budget ran out first, or Close.
fn read_available(
    client: &mut Client,
    label: &TokenLabel,
    readiness: Readiness,
    read_buf: &mut [u8],
    messages: &mut Vec<labproto::Message>,
    config: &TcpServerConfig,
) -> Step {
    let log = &config.log;
    // mio is edge-triggered: read until WouldBlock or we will not hear again;
    // but after READ_BUDGET reads let the others have a turn (see `unfinished`).
    let mut reads = 0;
    loop {
        if reads == READ_BUDGET {
            return Step::ReadAgain;
        }
        reads += 1;
        let read = client.stream.read(read_buf);
        if let Ok(n) = &read {
            record(
                client.trace.as_ref(),
                &client.sock,
                Call::Recv,
                Some(*n as u64),
            );
        }
        let n = match read {
            Ok(0) => {
                client.peer_done = true;
                if let Err(e) = client.conn.finish() {
                    log.event(label, format_args!("error: {e}"));
                }
                return Step::KeepOpen;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::KeepOpen,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log.event(label, format_args!("read failed: {}", plain(&e)));
                return Step::Close("client (connection reset)");
            }
        };
        if let Err(closed_by) = take_in(client, label, &read_buf[..n], messages, config) {
            return Step::Close(closed_by);
        }
        if n < read_buf.len() && readiness != Readiness::ReadToEnd {
            return Step::KeepOpen;
        }
    }
}

/// Frame the bytes of one read, queue their echoes and write what the kernel takes.
/// Err: the connection must close; who closed it, for the summary line.
fn take_in(
    client: &mut Client,
    label: &TokenLabel,
    data: &[u8],
    messages: &mut Vec<labproto::Message>,
    config: &TcpServerConfig,
) -> Result<(), &'static str> {
    let log = &config.log;
    messages.clear();
    if client.written == client.out.len() {
        client.out.clear();
        client.written = 0;
    }
    if let Err(e) = frame(client, label, data, messages, log) {
        // Send the echoes of the good messages before closing.
        let _ = flush(client);
        log.event(label, format_args!("error: {e}; closing this connection"));
        return Err("server (bad message)");
    }
    if let Err(e) = flush(client) {
        log.event(
            label,
            format_args!("writing the echo failed: {}", plain(&e)),
        );
        return Err("client (while we were writing)");
    }
    if client.pending_out() > config.max_pending {
        log.event(
            label,
            format_args!(
                "client is not reading its echoes: {} bytes pending, over the --max-pending cap of {} bytes; closing this connection",
                client.pending_out(),
                config.max_pending
            ),
        );
        return Err("server (client not reading)");
    }
    Ok(())
}

/// Frame `data` into the connection, its echoes appended to `client.out`; each
/// message is logged unless the log is quiet.
fn frame(
    client: &mut Client,
    label: &TokenLabel,
    data: &[u8],
    messages: &mut Vec<labproto::Message>,
    log: &Log,
) -> Result<(), labproto::Error> {
    let before = client.out.len();
    if log.is_quiet() {
        // No per-message lines: frame and echo without building messages.
        let mut warning = None;
        let framed = client
            .conn
            .receive_quiet(data, &mut client.out, &mut warning);
        if let Some(warning) = warning {
            log.event(label, format_args!("{warning}"));
        }
        framed
    } else {
        let framed = client.conn.receive(data, messages, &mut client.out);
        for m in messages.iter() {
            log.message(label, format_args!("received {m}"));
            if let Some(warning) = client.conn.version_warning(m) {
                log.event(label, format_args!("{warning}"));
            }
        }
        let queued = client.out.len() - before;
        if queued > 0 {
            log.message(label, format_args!("queued {queued} echo bytes"));
        }
        framed
    }
}

/// Connections accepted per turn of the loop (a connect flood cannot starve the
/// connected clients); the rest wait in the kernel's backlog for the next turn.
const ACCEPT_BUDGET: usize = 64;

/// Reads (of up to 64 KiB each) one connection may do per turn, so one fast sender
/// cannot keep the loop from everyone else.
const READ_BUDGET: usize = 16;

/// Write pending echo bytes until done or the kernel buffer is full.
fn flush(client: &mut Client) -> io::Result<()> {
    while client.written < client.out.len() {
        match client.stream.write(&client.out[client.written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                record(
                    client.trace.as_ref(),
                    &client.sock,
                    Call::Send,
                    Some(n as u64),
                );
                client.written += n;
                client.conn.record_sent(n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if client.written == client.out.len() {
        client.out.clear();
        client.written = 0;
    } else if client.written > client.out.len() / 2 {
        // Compact so the buffer does not creep forward forever.
        client.out.drain(..client.written);
        client.written = 0;
    }
    Ok(())
}
