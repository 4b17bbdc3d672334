//! The port the student's client connects to: bound first (so the program can be
//! given its number), then one connection accepted within the deadline, or none when
//! the student's program exits first (its stderr closing wakes the wait).

use crate::error::NetError;
use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

const LISTENER: mio::Token = mio::Token(0);
const WAKER: mio::Token = mio::Token(1);

/// The listening socket and the poll that waits on it and on the program's exit.
pub(super) struct Listening {
    poll: mio::Poll,
    listener: mio::net::TcpListener,
    waker: Arc<mio::Waker>,
    /// The address listened on (port 0 resolved).
    pub(super) addr: SocketAddr,
}

impl Listening {
    pub(super) fn bind(bind: SocketAddr) -> Result<Listening, NetError> {
        let listener = std::net::TcpListener::bind(bind)
            .map_err(|source| NetError::Bind { addr: bind, source })?;
        let addr = listener.local_addr().map_err(|source| NetError::Io {
            what: "reading the listening address",
            addr: bind,
            source,
        })?;
        let poll = mio::Poll::new().map_err(io)?;
        listener.set_nonblocking(true).map_err(io)?;
        let mut listener = mio::net::TcpListener::from_std(listener);
        poll.registry()
            .register(&mut listener, LISTENER, mio::Interest::READABLE)
            .map_err(io)?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER).map_err(io)?);
        Ok(Listening {
            poll,
            listener,
            waker,
            addr,
        })
    }

    /// What the program's stderr reader wakes when the program exits.
    pub(super) fn waker(&self) -> Arc<mio::Waker> {
        Arc::clone(&self.waker)
    }

    /// The first connection before `deadline`; None when the deadline passed or the
    /// program exited without connecting.
    pub(super) fn accept_one(&mut self, deadline: Instant) -> Result<Option<TcpStream>, NetError> {
        let mut events = mio::Events::with_capacity(4);
        let mut stream = None;
        let mut program_gone = false;
        while stream.is_none() && !program_gone {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            if let Err(e) = self.poll.poll(&mut events, Some(left)) {
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
            match self.listener.accept() {
                Ok((s, _)) => stream = Some(TcpStream::from(s)),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(stream)
    }
}

fn io(source: std::io::Error) -> NetError {
    NetError::Poll { source }
}
