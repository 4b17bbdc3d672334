//! The TCP client of exercises 2–5: sends text, v2 or v3 messages and prints the echoes.

use crate::error::NetError;
use crate::trace_events::{record, Call, Sock};
use labproto::framer::decoder_for;
use labproto::{Framer, Message, Proto};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// What the client sends and how it waits.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub proto: Proto,
    pub server: SocketAddr,
    pub version: u8,
    /// Wait for (and print) an echo after each message.
    pub expect_echo: bool,
    /// How long to wait for the connection and for each echo.
    pub timeout: Duration,
    /// Pause between messages, as a student typing at the prompt: keeps the
    /// connection open while other clients are served.
    pub pause: Duration,
    /// `--trace-events`: the socket calls as JSON lines.
    pub trace: Option<crate::trace_events::TraceEvents>,
}

/// A connected client; orders start at 1 and increase with every message.
pub struct Client {
    stream: TcpStream,
    config: ClientConfig,
    next_order: u32,
    framer: Framer<labproto::framer::LabDecoder>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("stream", &self.stream)
            .field("config", &self.config)
            .field("next_order", &self.next_order)
            .finish()
    }
}

impl Client {
    pub fn connect(config: ClientConfig) -> Result<Client, NetError> {
        let server = config.server;
        let stream = TcpStream::connect_timeout(&server, config.timeout).map_err(|source| {
            NetError::Connect {
                addr: server,
                source,
            }
        })?;
        let framer = Framer::new(decoder_for(config.proto, u32::MAX));
        let sock = Sock::of(&stream, stream.local_addr().ok(), Some(server), None);
        record(config.trace.as_ref(), &sock, Call::Connect, None);
        Ok(Client {
            stream,
            config,
            next_order: 1,
            framer,
        })
    }

    /// The socket as `--trace-events` names it.
    fn sock(&self) -> Sock {
        Sock::of(
            &self.stream,
            self.stream.local_addr().ok(),
            Some(self.config.server),
            None,
        )
    }

    pub fn local_addr(&self) -> Result<SocketAddr, NetError> {
        self.stream.local_addr().map_err(|source| NetError::Io {
            what: "reading the local address",
            addr: self.config.server,
            source,
        })
    }

    /// Send one message; returns it and, when echoes are expected, the decoded echo.
    pub fn send(&mut self, text: &[u8]) -> Result<(Message, Option<Message>), NetError> {
        let order = self.next_order;
        let message = Message::new(self.config.proto, self.config.version, order, text)
            .map_err(|source| NetError::Encode { order, source })?;
        self.next_order = order.wrapping_add(1);
        let wire = message.encode();
        let server = self.config.server;
        let sent = self.stream.write_all(&wire);
        if sent.is_ok() {
            // One sendall(): write_all's writes, as one call of all the bytes.
            record(
                self.config.trace.as_ref(),
                &self.sock(),
                Call::Send,
                Some(wire.len() as u64),
            );
        }
        sent.map_err(|source| NetError::Io {
            what: "sending a message",
            addr: server,
            source,
        })?;
        if !self.config.expect_echo {
            return Ok((message, None));
        }
        let echo = self.read_echo(wire.len())?;
        Ok((message, Some(echo)))
    }

    /// Text: read until as many bytes as sent arrived. v2/v3: read one whole frame.
    fn read_echo(&mut self, sent_len: usize) -> Result<Message, NetError> {
        let server = self.config.server;
        let proto = self.config.proto;
        let deadline = Instant::now() + self.config.timeout;
        let mut text = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        loop {
            if proto == Proto::Text {
                if text.len() >= sent_len {
                    return Ok(Message::text(&text));
                }
            } else {
                match self.framer.next_frame() {
                    Ok(Some(frame)) => {
                        return Message::decode(proto, frame.bytes).map_err(|source| {
                            NetError::BadEcho {
                                addr: server,
                                source,
                            }
                        })
                    }
                    Ok(None) => {}
                    Err(source) => {
                        return Err(NetError::BadEcho {
                            addr: server,
                            source,
                        })
                    }
                }
            }
            let received = if proto == Proto::Text {
                text.len()
            } else {
                self.framer.pending().len()
            };
            let expected = if proto == Proto::Text {
                sent_len
            } else {
                sent_len.max(received)
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(NetError::EchoTimeout {
                    addr: server,
                    timeout_ms: self.config.timeout.as_millis(),
                    received,
                    expected,
                });
            }
            let _ = self.stream.set_read_timeout(Some(left));
            let read = self.stream.read(&mut buf);
            if let Ok(n) = &read {
                record(
                    self.config.trace.as_ref(),
                    &self.sock(),
                    Call::Recv,
                    Some(*n as u64),
                );
            }
            match read {
                Ok(0) => {
                    return Err(NetError::EchoCut {
                        addr: server,
                        received,
                        expected,
                    })
                }
                Ok(n) if proto == Proto::Text => text.extend_from_slice(&buf[..n]),
                Ok(n) => self.framer.push(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(source) => {
                    return Err(NetError::Io {
                        what: "reading the echo",
                        addr: server,
                        source,
                    })
                }
            }
        }
    }
}

/// `labnet tcp-client`: send `-m` messages (or stdin lines) and print each echo.
pub fn run(config: ClientConfig, messages: &[String]) -> Result<(), NetError> {
    let mut client = Client::connect(config)?;
    let local = client.local_addr()?;
    println!(
        "connected to {} from local port {} (an ephemeral port chosen by the OS; it is the source port in the capture)",
        client.config.server,
        local.port()
    );
    let pause = client.config.pause;
    let mut first = true;
    let one = |text: &str| -> Result<(), NetError> {
        if !first {
            std::thread::sleep(pause);
        }
        first = false;
        let (sent, echo) = client.send(text.as_bytes())?;
        println!("sent {sent} ({} bytes)", sent.encode().len());
        if let Some(echo) = echo {
            let same = if echo.encode() == sent.encode() {
                ""
            } else {
                "  (differs from what was sent)"
            };
            println!("echo {echo}{same}");
        }
        Ok(())
    };
    crate::sockets::for_each_message(messages, one)
}

impl Drop for Client {
    /// The socket closes with the client: say so in the trace.
    fn drop(&mut self) {
        if self.config.trace.is_some() {
            let sock = self.sock();
            record(self.config.trace.as_ref(), &sock, Call::Close, None);
        }
    }
}
