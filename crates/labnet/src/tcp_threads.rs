//! The threads model (serverTCP.py, exercises 2, 4, 5): one thread per client that
//! blocks on its own socket. A slow client only ever blocks its own thread.
//!
//! serverTCP.py's main thread accepts and then starts a thread for the client, so
//! a client's first message waits for a thread to start and for a second wake-up
//! (measured here: the first echo took 2-3× the selector's). In this server the
//! thread that accepts a client also serves it: before it starts serving, it hands
//! the listening socket to a spare thread, started in advance while nobody waits,
//! which accepts the next client. Every client still has a thread of its own; only
//! the thread that calls accept() changes from client to client. A thread whose
//! client has left waits (up to a second) to be handed the role again, so clients
//! one after another do not each start a thread.
//!
//! A client's thread blocks in read() and write() with no timeout, so an idle
//! client costs no wake-ups; a stop shuts every client's socket down, which wakes
//! those threads at once. The acceptor alone wakes every STOP_CHECK to see the stop
//! flag (set by a signal handler, which cannot wake anything).

use crate::connection::Connection;
use crate::error::{plain, NetError};
use crate::log::Log;
use crate::server::{banner, close_summary, counted, ServerHandle, TcpServerConfig, STOP_CHECK};
use crate::trace_events::{record, Call, Sock};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

/// Pause after a failed accept() (e.g. out of file descriptors) before trying again.
const ACCEPT_IDLE: Duration = Duration::from_millis(20);

/// Stack of a server thread: its loop needs a few kB (the receive buffer is on the
/// heap); a small stack makes the thread quicker to start than the 2 MiB default.
const THREAD_STACK: usize = 256 * 1024;

/// Handler name of the accept role in the log (whichever thread holds it).
const ACCEPTOR: &str = "thread accept";

/// Idle threads kept for later clients; more than this end when their client does.
const MAX_IDLE: usize = 8;

/// How long an idle thread waits for a new client before it ends (so an idle server
/// is back to its acceptor and one spare).
const IDLE_KEEP: Duration = Duration::from_secs(1);

/// What the server's threads share.
struct Shared {
    local: SocketAddr,
    config: TcpServerConfig,
    stop: Arc<AtomicBool>,
    counts: Mutex<Counts>,
    /// Signalled when a client is done or a thread ends.
    changed: Condvar,
    /// The sockets of the clients being served, by thread number: a stopping
    /// acceptor shuts them down, which wakes their threads from a blocked read or
    /// write (so no client thread needs a timeout to notice the stop).
    sockets: Mutex<HashMap<usize, RawFd>>,
    /// Threads waiting to be handed the accept role: each one's number and sender,
    /// the one idle for the shortest time last.
    idle: Mutex<Vec<(usize, SyncSender<Role>)>>,
    /// Numbers the threads' names (`labnet-1`, `labnet-2`, …).
    next_thread: AtomicUsize,
}

#[derive(Default)]
struct Counts {
    /// Clients accepted and not yet closed.
    serving: usize,
    /// Server threads alive (the acceptor, the idle ones, one per client).
    threads: usize,
}

/// A lock whose holder may have panicked: every change under these locks is one
/// statement, so what they guard is consistent and the poison no reason to stop.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The accept role: the listening socket and its readiness. It passes from thread
/// to thread; dropping it closes the listener.
struct Listening {
    listener: TcpListener,
    ready: AcceptReady,
}

/// What a thread is handed: the accept role, and its own sender, which it puts in
/// the idle list once its client is gone (a thread never holds its own sender while
/// it waits, so clearing the idle list ends the idle threads).
struct Role {
    listening: Listening,
    sender: SyncSender<Role>,
}

pub fn start(config: TcpServerConfig, stop: Arc<AtomicBool>) -> Result<ServerHandle, NetError> {
    // Non-blocking accept: the acceptor can notice the stop flag between clients.
    let (listener, local) = crate::sockets::nonblocking_tcp_listener(config.bind)?;
    let ready = AcceptReady::new(&listener).map_err(|source| NetError::Io {
        what: "watching the listener",
        addr: local,
        source,
    })?;
    config
        .log
        .event(&ACCEPTOR, format_args!("{}", banner(&config, local)));
    let shared = Arc::new(Shared {
        local,
        config,
        stop: Arc::clone(&stop),
        counts: Mutex::new(Counts::default()),
        changed: Condvar::new(),
        sockets: Mutex::new(HashMap::new()),
        idle: Mutex::new(Vec::new()),
        next_thread: AtomicUsize::new(1),
    });
    let first = start_thread(&shared).map_err(|source| NetError::Io {
        what: "starting the accept thread",
        addr: local,
        source,
    })?;
    // The first thread gets the role at once; the channel holds it until it runs.
    hand_over(&first, Listening { listener, ready }).map_err(|_| NetError::ServerPanicked)?;
    let supervisor = Arc::clone(&shared);
    let thread = thread::Builder::new()
        .name("labnet-server".into())
        .spawn(move || {
            wait_for_every_thread(&supervisor);
            supervisor.config.log.event(
                &ACCEPTOR,
                format_args!("stopped listening on {}", supervisor.local),
            );
            Ok(())
        })
        .map_err(|source| NetError::Io {
            what: "starting the server thread",
            addr: local,
            source,
        })?;
    Ok(ServerHandle::new(local, stop, thread))
}

/// Give the accept role to the thread behind `to`; on failure (that thread ended,
/// which only a panic can do) the role comes back.
fn hand_over(to: &SyncSender<Role>, listening: Listening) -> Result<(), Listening> {
    let role = Role {
        listening,
        sender: to.clone(),
    };
    to.send(role).map_err(|back| back.0.listening)
}

/// Blocks until every server thread has ended (they end only once the stop flag is
/// set: the acceptor and the idle ones at once, a client's thread when it closes).
fn wait_for_every_thread(shared: &Shared) {
    let mut counts = lock(&shared.counts);
    while counts.threads > 0 {
        counts = shared
            .changed
            .wait(counts)
            .unwrap_or_else(PoisonError::into_inner);
    }
}

/// Start a thread that waits to be handed the accept role (or, if its sender is
/// dropped, ends). Returns the sender that hands it over.
fn start_thread(shared: &Arc<Shared>) -> io::Result<SyncSender<Role>> {
    let (tx, rx) = sync_channel::<Role>(1);
    let n = shared.next_thread.fetch_add(1, Ordering::Relaxed);
    let me = Arc::clone(shared);
    lock(&shared.counts).threads += 1;
    let spawned = thread::Builder::new()
        .name(format!("labnet-{n}"))
        .stack_size(THREAD_STACK)
        .spawn(move || server_thread(&me, n, &rx));
    if let Err(e) = spawned {
        lock(&shared.counts).threads -= 1;
        return Err(e);
    }
    Ok(tx)
}

/// Counts a thread as ended when dropped, even by a panic.
struct Alive<'a>(&'a Shared);

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        lock(&self.0.counts).threads -= 1;
        self.0.changed.notify_all();
    }
}

/// A server thread's life: wait for the accept role, accept one client, hand the
/// role on, serve that client until it closes, then wait again (or end, when the
/// server stops, enough threads are idle, or none came for IDLE_KEEP).
fn server_thread(shared: &Arc<Shared>, n: usize, role: &Receiver<Role>) {
    let _alive = Alive(shared);
    // Reused by every client this thread serves.
    let mut scratch = Scratch::new();
    // A new thread waits for as long as its starter holds its sender.
    let mut got = role.recv().ok();
    while let Some(Role { listening, sender }) = got {
        let Some((stream, peer)) = accept_one(shared, listening) else {
            return;
        };
        serve_client(stream, peer, shared, n, &mut scratch);
        lock(&shared.counts).serving -= 1;
        shared.changed.notify_all();
        {
            let mut idle = lock(&shared.idle);
            // Checked under the idle lock: a stopping acceptor clears the list after
            // it saw the flag, so no thread joins the list after that.
            if shared.stop.load(Ordering::SeqCst) || idle.len() >= MAX_IDLE {
                return;
            }
            idle.push((n, sender));
        }
        got = wait_idle(shared, n, role);
    }
}

/// An idle thread's wait: the role, or None to end (the server stopped, or no
/// client came for IDLE_KEEP and the thread took itself off the idle list).
fn wait_idle(shared: &Shared, n: usize, role: &Receiver<Role>) -> Option<Role> {
    match role.recv_timeout(IDLE_KEEP) {
        Ok(r) => Some(r),
        Err(RecvTimeoutError::Disconnected) => None,
        Err(RecvTimeoutError::Timeout) => {
            let mut idle = lock(&shared.idle);
            if let Some(at) = idle.iter().position(|(id, _)| *id == n) {
                idle.remove(at);
                return None;
            }
            drop(idle);
            // An acceptor took this thread off the list just now: the role is coming.
            role.recv().ok()
        }
    }
}

/// A thread's buffers for the clients it serves.
struct Scratch {
    buf: Vec<u8>,
    messages: Vec<labproto::Message>,
    echo: Vec<u8>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            buf: vec![0u8; 64 * 1024],
            messages: Vec::new(),
            echo: Vec::new(),
        }
    }
}

/// A thread to hand the accept role to: an idle one, else a new one (said in the
/// log when it cannot be started).
fn take_idle_or_start(shared: &Arc<Shared>) -> Option<SyncSender<Role>> {
    if let Some((_, tx)) = lock(&shared.idle).pop() {
        return Some(tx);
    }
    match start_thread(shared) {
        Ok(tx) => Some(tx),
        Err(e) => {
            shared.config.log.event(
                &ACCEPTOR,
                format_args!("cannot start a thread: {}", plain(&e)),
            );
            None
        }
    }
}

/// Hold the accept role until a client is accepted and the role is handed to
/// another thread (returns the client), or until the server stops (returns None;
/// the listener is closed and the idle threads end).
fn accept_one(shared: &Arc<Shared>, mut listening: Listening) -> Option<(TcpStream, SocketAddr)> {
    let log = &shared.config.log;
    // One idle thread is made ready now, while no client waits, so that handing the
    // role on never waits for a thread to start.
    let mut next = take_idle_or_start(shared);
    loop {
        if !wait_for_room(shared) {
            let serving = lock(&shared.counts).serving;
            log.event(
                &ACCEPTOR,
                format_args!(
                    "stopping: closing {}",
                    counted(serving as u64, "client connection", "client connections")
                ),
            );
            drop(next);
            lock(&shared.idle).clear();
            shut_down_all(&lock(&shared.sockets));
            return None;
        }
        match listening.listener.accept() {
            Ok((stream, peer)) => {
                if let Some(trace) = log.trace() {
                    let sock = Sock::of(&stream, stream.local_addr().ok(), Some(peer), None);
                    trace.record(&sock, Call::Accept, None);
                }
                // An idle thread may have come back since; the one taken stays idle.
                let Some(to) = next.take().or_else(|| take_idle_or_start(shared)) else {
                    log.event(
                        &ACCEPTOR,
                        format_args!("no thread to serve {peer}: closing it"),
                    );
                    continue;
                };
                lock(&shared.counts).serving += 1;
                log.event(
                    &ACCEPTOR,
                    format_args!(
                        "accepted {peer} (client's ephemeral port {}); this thread now serves \
                         it as thread client-{peer}, and another thread takes over accept()",
                        peer.port()
                    ),
                );
                match hand_over(&to, listening) {
                    Ok(()) => return Some((stream, peer)),
                    Err(back) => {
                        lock(&shared.counts).serving -= 1;
                        listening = back;
                        log.event(
                            &ACCEPTOR,
                            format_args!("no thread to serve {peer}: closing it"),
                        );
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => listening.ready.wait(STOP_CHECK),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // E.g. out of file descriptors: keep serving the clients we have.
                log.event(&ACCEPTOR, format_args!("accept failed: {}", plain(&e)));
                thread::sleep(ACCEPT_IDLE);
            }
        }
    }
}

/// With --max-clients: wait while that many clients are served (newcomers wait in
/// the kernel's accept backlog). Returns false once the server is stopping.
fn wait_for_room(shared: &Shared) -> bool {
    let stopping = || shared.stop.load(Ordering::SeqCst);
    let Some(max) = shared.config.max_clients else {
        return !stopping();
    };
    let mut counts = lock(&shared.counts);
    if counts.serving >= max && !stopping() {
        shared.config.log.event(
            &ACCEPTOR,
            format_args!(
                "{max} clients connected (--max-clients {max}): newcomers wait in the accept backlog"
            ),
        );
        while counts.serving >= max && !stopping() {
            // A client's end wakes this at once; the timeout only lets Ctrl-C be seen.
            counts = shared
                .changed
                .wait_timeout(counts, STOP_CHECK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
    !stopping()
}

/// Readiness of the listening socket: wakes the accept loop when a connection waits.
struct AcceptReady {
    poll: mio::Poll,
    events: mio::Events,
}

impl AcceptReady {
    fn new(listener: &TcpListener) -> io::Result<AcceptReady> {
        use std::os::fd::AsRawFd;
        let poll = mio::Poll::new()?;
        let fd = listener.as_raw_fd();
        poll.registry().register(
            &mut mio::unix::SourceFd(&fd),
            mio::Token(0),
            mio::Interest::READABLE,
        )?;
        Ok(AcceptReady {
            poll,
            events: mio::Events::with_capacity(4),
        })
    }

    /// Block until a connection is waiting or `timeout` passes. An error (EINTR)
    /// just returns: the loop calls accept() again either way.
    fn wait(&mut self, timeout: Duration) {
        let _ = self.poll.poll(&mut self.events, Some(timeout));
    }
}

/// The log label of a client thread: `thread client-127.0.0.1:54321`.
struct ThreadLabel<'a>(&'a SocketAddr);

impl std::fmt::Display for ThreadLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "thread client-{}", self.0)
    }
}

fn serve_client(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    n: usize,
    scratch: &mut Scratch,
) {
    let (config, stop) = (&shared.config, &*shared.stop);
    let label = ThreadLabel(&peer);
    let log = &config.log;
    let mut conn = Connection::new(config.proto, config.max_size, config.echo);
    log.event(&label, format_args!("serving {peer}"));
    let local = log.trace().and_then(|_| stream.local_addr().ok());
    let sock = Sock::of(&stream, local, Some(peer), None);
    let closed_by = match register(shared, n, &stream) {
        // The socket is blocking (on Linux accept() does not pass on O_NONBLOCK)
        // and has no timeouts: a stop wakes it by a shutdown.
        Ok(()) => {
            let closed_by = serve_loop(&mut stream, &mut conn, stop, &label, log, &sock, scratch);
            lock(&shared.sockets).remove(&n);
            closed_by
        }
        Err(Stopping) => SHUTTING_DOWN,
    };
    let _ = stream.shutdown(std::net::Shutdown::Both);
    record(log.trace(), &sock, Call::Shutdown, None);
    log.event(&label, format_args!("{}", close_summary(closed_by, &conn)));
    drop(stream);
    record(log.trace(), &sock, Call::Close, None);
}

/// Who closed a connection that the server's stop ended.
const SHUTTING_DOWN: &str = "server (shutting down)";

/// The server is stopping (a client accepted just then is closed unserved).
struct Stopping;

/// Put a client's socket where a stopping acceptor shuts it down. The stop flag is
/// read under the same lock the acceptor takes after it saw the flag, so a socket
/// is either shut down by the acceptor or never served.
fn register(shared: &Shared, n: usize, stream: &TcpStream) -> Result<(), Stopping> {
    let mut sockets = lock(&shared.sockets);
    if shared.stop.load(Ordering::SeqCst) {
        return Err(Stopping);
    }
    sockets.insert(n, stream.as_raw_fd());
    Ok(())
}

/// A stop: shut down every served client's socket, which wakes its thread from a
/// blocked read (0 bytes) or write (EPIPE).
#[allow(unsafe_code)]
fn shut_down_all(sockets: &MutexGuard<'_, HashMap<usize, RawFd>>) {
    for &fd in sockets.values() {
        // SAFETY: `fd` stays open while `sockets` is locked: a serving thread takes
        // its entry out, under this lock, before it drops (closes) its stream, so
        // the descriptor can be neither closed nor reused during this call.
        let socket = unsafe { BorrowedFd::borrow_raw(fd) };
        let _ = socket2::SockRef::from(&socket).shutdown(std::net::Shutdown::Both);
    }
}

/// Returns who closed the connection.
fn serve_loop(
    stream: &mut TcpStream,
    conn: &mut Connection,
    stop: &AtomicBool,
    label: &ThreadLabel<'_>,
    log: &Log,
    sock: &Sock,
    scratch: &mut Scratch,
) -> &'static str {
    let Scratch {
        buf,
        messages,
        echo,
    } = scratch;
    let stopping = || stop.load(Ordering::SeqCst);
    loop {
        if stopping() {
            return SHUTTING_DOWN;
        }
        let read = stream.read(buf);
        if let Ok(n) = &read {
            record(log.trace(), sock, Call::Recv, Some(*n as u64));
        }
        let n = match read {
            Ok(0) if stopping() => return SHUTTING_DOWN,
            Ok(0) => {
                if let Err(e) = conn.finish() {
                    log.event(label, format_args!("error: {e}"));
                }
                return "client";
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) if stopping() => return SHUTTING_DOWN,
            Err(e) => {
                log.event(label, format_args!("read failed: {}", plain(&e)));
                return "client (connection reset)";
            }
        };
        messages.clear();
        echo.clear();
        let framed = if log.is_quiet() {
            let mut warning = None;
            let framed = conn.receive_quiet(&buf[..n], echo, &mut warning);
            if let Some(warning) = warning {
                log.event(label, format_args!("{warning}"));
            }
            framed
        } else {
            let framed = conn.receive(&buf[..n], messages, echo);
            for m in messages.iter() {
                log.message(label, format_args!("received {m}"));
                if let Some(warning) = conn.version_warning(m) {
                    log.event(label, format_args!("{warning}"));
                }
            }
            framed
        };
        if !echo.is_empty() {
            // A client that does not read stalls this thread (and only this
            // thread), as in the Python original, until the server stops.
            match stream.write_all(echo) {
                Ok(()) => {
                    // One sendall(): write_all's writes, as one call of all the bytes.
                    record(log.trace(), sock, Call::Send, Some(echo.len() as u64));
                    conn.record_sent(echo.len());
                    log.message(label, format_args!("echoed {} bytes", echo.len()));
                }
                Err(_) if stopping() => return SHUTTING_DOWN,
                Err(e) => {
                    log.event(
                        label,
                        format_args!("writing the echo failed: {}", plain(&e)),
                    );
                    return "client (while we were writing)";
                }
            }
        }
        if let Err(e) = framed {
            log.event(label, format_args!("error: {e}; closing this connection"));
            return "server (bad message)";
        }
    }
}
