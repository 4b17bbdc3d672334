//! Exercise 1: the UDP server that prints every datagram, and the client that sends them.

use crate::error::{plain, NetError};
use crate::log::Log;
use crate::server::STOP_CHECK;
use labproto::Message;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const LABEL: &str = "udp";

/// Largest UDP payload; a datagram is never split or joined, so one read is one message.
const MAX_DATAGRAM: usize = 65_536;

/// A bound UDP server, ready to run.
#[derive(Debug)]
pub struct UdpServer {
    socket: UdpSocket,
    local: SocketAddr,
    log: Log,
}

impl UdpServer {
    pub fn bind(addr: SocketAddr, log: Log) -> Result<UdpServer, NetError> {
        let socket = crate::sockets::udp_socket(addr)?;
        let local = socket.local_addr().map_err(|source| NetError::Io {
            what: "reading the bound address",
            addr,
            source,
        })?;
        socket
            .set_read_timeout(Some(STOP_CHECK))
            .map_err(|source| NetError::Io {
                what: "setting the read timeout",
                addr: local,
                source,
            })?;
        Ok(UdpServer { socket, local, log })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Print every datagram until `stop` is set.
    pub fn run(&self, stop: &AtomicBool) -> Result<(), NetError> {
        self.log.event(
            &LABEL,
            format_args!("listening on {} (udp, prints every datagram)", self.local),
        );
        let mut buf = vec![0u8; MAX_DATAGRAM];
        while !stop.load(Ordering::SeqCst) {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.log.message(
                    &LABEL,
                    format_args!(
                        "datagram from {} port {} ({n} bytes): {}",
                        from.ip(),
                        from.port(),
                        Message::text(&buf[..n])
                    ),
                ),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                // ICMP port unreachable from an earlier send shows up here on some
                // systems; it concerns one peer, not the server.
                Err(e) => self
                    .log
                    .event(&LABEL, format_args!("receive failed: {}", plain(&e))),
            }
        }
        self.log
            .event(&LABEL, format_args!("stopped listening on {}", self.local));
        Ok(())
    }
}

/// Start a UDP server in the background (tests).
pub fn start_udp_server(
    addr: SocketAddr,
    log: Log,
    stop: Arc<AtomicBool>,
) -> Result<crate::ServerHandle, NetError> {
    let server = UdpServer::bind(addr, log)?;
    let local = server.local_addr();
    let flag = Arc::clone(&stop);
    let thread = std::thread::Builder::new()
        .name("udp".into())
        .spawn(move || server.run(&flag))
        .map_err(|source| NetError::Io {
            what: "starting the udp thread",
            addr: local,
            source,
        })?;
    Ok(crate::ServerHandle::new(local, stop, thread))
}

/// The unspecified address of the same family as `target`, port 0: the OS picks the
/// ephemeral source port, exactly as for Python's unbound `sendto`.
pub fn any_local_for(target: SocketAddr) -> SocketAddr {
    let ip = match target.ip() {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    };
    SocketAddr::new(ip, 0)
}

/// Send each message (or each stdin line) as one datagram to `target`.
pub fn run_client(target: SocketAddr, messages: &[String]) -> Result<(), NetError> {
    let local_req = any_local_for(target);
    let socket = UdpSocket::bind(local_req).map_err(|source| NetError::Bind {
        addr: local_req,
        source,
    })?;
    let local = socket.local_addr().map_err(|source| NetError::Io {
        what: "reading the local address",
        addr: local_req,
        source,
    })?;
    println!(
        "udp client: local port {} (an ephemeral port chosen by the OS; look for it as the source port in the capture)",
        local.port()
    );
    let send = |text: &str| -> Result<(), NetError> {
        let n = socket
            .send_to(text.as_bytes(), target)
            .map_err(|source| NetError::Io {
                what: "sending a datagram",
                addr: target,
                source,
            })?;
        println!(
            "sent {n} bytes to {target}: {}",
            Message::text(text.as_bytes())
        );
        Ok(())
    };
    crate::sockets::for_each_message(messages, send)
}
