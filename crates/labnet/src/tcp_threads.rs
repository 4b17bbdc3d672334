//! The threads model (serverTCP.py, exercises 2, 4, 5): an accept loop, and one
//! named thread per client that blocks on its own socket. A slow client only ever
//! blocks its own thread.

use crate::connection::Connection;
use crate::error::{plain, NetError};
use crate::log::Log;
use crate::server::{banner, close_summary, ServerHandle, TcpServerConfig, STOP_CHECK};
use crate::trace_events::{record, Call, Sock};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Pause of the accept loop while --max-clients are connected, or after a failed
/// accept() (e.g. out of file descriptors), before it tries again.
const ACCEPT_IDLE: Duration = Duration::from_millis(20);

/// Stack of a client thread: its loop needs a few kB (the receive buffer is on the
/// heap); a small stack makes the thread quicker to start than the 2 MiB default,
/// and that start is part of every client's first echo.
const CLIENT_STACK: usize = 256 * 1024;

/// Handler name of the accept loop in the log.
const ACCEPTOR: &str = "thread accept";

pub fn start(config: TcpServerConfig, stop: Arc<AtomicBool>) -> Result<ServerHandle, NetError> {
    // Non-blocking accept: the loop can notice the stop flag between clients.
    let (listener, local) = crate::sockets::nonblocking_tcp_listener(config.bind)?;
    config
        .log
        .event(&ACCEPTOR, format_args!("{}", banner(&config, local)));
    let stop_flag = Arc::clone(&stop);
    let thread = thread::Builder::new()
        .name("accept".into())
        .spawn(move || accept_loop(listener, local, config, stop_flag))
        .map_err(|source| NetError::Io {
            what: "starting the accept thread",
            addr: local,
            source,
        })?;
    Ok(ServerHandle::new(local, stop, thread))
}

fn accept_loop(
    listener: TcpListener,
    local: SocketAddr,
    config: TcpServerConfig,
    stop: Arc<AtomicBool>,
) -> Result<(), NetError> {
    let log = &config.log;
    // The accept loop blocks in poll() until a client connects (so a client is
    // accepted at once, as Python's blocking accept() does) or STOP_CHECK passes (so
    // the stop flag, set by Ctrl-C, is seen).
    let mut ready = AcceptReady::new(&listener).map_err(|source| NetError::Io {
        what: "watching the listener",
        addr: local,
        source,
    })?;
    let active = Arc::new(AtomicUsize::new(0));
    let mut clients: Vec<JoinHandle<()>> = Vec::new();
    let mut told_full = false;
    while !stop.load(Ordering::SeqCst) {
        clients.retain(|c| !c.is_finished());
        if let Some(max) = config.max_clients {
            if active.load(Ordering::SeqCst) >= max {
                if !told_full {
                    log.event(
                        &ACCEPTOR,
                        format_args!(
                            "{max} clients connected (--max-clients {max}): newcomers wait in the accept backlog"
                        ),
                    );
                    told_full = true;
                }
                thread::sleep(ACCEPT_IDLE);
                continue;
            }
            told_full = false;
        }
        match listener.accept() {
            Ok((stream, peer)) => {
                let sock = Sock::of(&stream, stream.local_addr().ok(), Some(peer), None);
                record(log.trace(), &sock, Call::Accept, None);
                let name = format!("client-{peer}");
                active.fetch_add(1, Ordering::SeqCst);
                log.event(
                    &ACCEPTOR,
                    format_args!(
                        "accepted {peer} (client's ephemeral port {}), handing it to thread {name}",
                        peer.port()
                    ),
                );
                let (cfg, stop, active2) = (config.clone(), Arc::clone(&stop), Arc::clone(&active));
                let spawned = thread::Builder::new()
                    .name(name.clone())
                    .stack_size(CLIENT_STACK)
                    .spawn(move || {
                        serve_client(stream, peer, &cfg, &stop);
                        active2.fetch_sub(1, Ordering::SeqCst);
                    });
                match spawned {
                    Ok(handle) => clients.push(handle),
                    Err(e) => {
                        active.fetch_sub(1, Ordering::SeqCst);
                        log.event(
                            &ACCEPTOR,
                            format_args!(
                                "cannot start thread {name}: {}; closing {peer}",
                                plain(&e)
                            ),
                        );
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => ready.wait(STOP_CHECK),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // E.g. out of file descriptors: keep serving the clients we have.
                log.event(&ACCEPTOR, format_args!("accept failed: {}", plain(&e)));
                thread::sleep(ACCEPT_IDLE);
            }
        }
    }
    log.event(
        &ACCEPTOR,
        format_args!("stopping: closing {} client connection(s)", clients.len()),
    );
    for client in clients {
        let _ = client.join();
    }
    log.event(&ACCEPTOR, format_args!("stopped listening on {local}"));
    Ok(())
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
    config: &TcpServerConfig,
    stop: &AtomicBool,
) {
    let label = ThreadLabel(&peer);
    let log = &config.log;
    // Timeouts only so the thread can notice Ctrl-C; they never close a connection.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(STOP_CHECK));
    let _ = stream.set_write_timeout(Some(STOP_CHECK));
    let mut conn = Connection::new(config.proto, config.max_size, config.echo);
    log.event(&label, format_args!("serving {peer}"));
    let sock = Sock::of(&stream, stream.local_addr().ok(), Some(peer), None);
    let closed_by = serve_loop(&mut stream, &mut conn, stop, &label, log, &sock);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    record(log.trace(), &sock, Call::Shutdown, None);
    log.event(&label, format_args!("{}", close_summary(closed_by, &conn)));
    drop(stream);
    record(log.trace(), &sock, Call::Close, None);
}

/// Returns who closed the connection.
fn serve_loop(
    stream: &mut TcpStream,
    conn: &mut Connection,
    stop: &AtomicBool,
    label: &ThreadLabel<'_>,
    log: &Log,
    sock: &Sock,
) -> &'static str {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut messages, mut echo) = (Vec::new(), Vec::new());
    loop {
        if stop.load(Ordering::SeqCst) {
            return "server (shutting down)";
        }
        let read = stream.read(&mut buf);
        if let Ok(n) = &read {
            record(log.trace(), sock, Call::Recv, Some(*n as u64));
        }
        let n = match read {
            Ok(0) => {
                if let Err(e) = conn.finish() {
                    log.event(label, format_args!("error: {e}"));
                }
                return "client";
            }
            Ok(n) => n,
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log.event(label, format_args!("read failed: {}", plain(&e)));
                return "client (connection reset)";
            }
        };
        messages.clear();
        echo.clear();
        let framed = if log.is_quiet() {
            let mut warning = None;
            let framed = conn.receive_quiet(&buf[..n], &mut echo, &mut warning);
            if let Some(warning) = warning {
                log.event(label, format_args!("{warning}"));
            }
            framed
        } else {
            let framed = conn.receive(&buf[..n], &mut messages, &mut echo);
            for m in &messages {
                log.message(label, format_args!("received {m}"));
                if let Some(warning) = conn.version_warning(m) {
                    log.event(label, format_args!("{warning}"));
                }
            }
            framed
        };
        if !echo.is_empty() {
            match write_all_until_stop(stream, &echo, stop) {
                Ok(()) => {
                    // One sendall(): write_all's writes, as one call of all the bytes.
                    record(log.trace(), sock, Call::Send, Some(echo.len() as u64));
                    conn.record_sent(echo.len());
                    log.message(label, format_args!("echoed {} bytes", echo.len()));
                }
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

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// `write_all` that gives up only when the server stops: a client that does not
/// read stalls this thread (and only this thread), as in the Python original.
fn write_all_until_stop(
    stream: &mut TcpStream,
    mut data: &[u8],
    stop: &AtomicBool,
) -> io::Result<()> {
    while !data.is_empty() {
        match stream.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::Interrupted => {
                if stop.load(Ordering::SeqCst) {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
