//! Per-connection state shared by both server models: the framer (the read buffer),
//! the echo rule and the byte/message counters. Pure: no sockets, no logging.

use labproto::framer::{decoder_for, LabDecoder};
use labproto::{Framer, Message, Proto};

/// The version byte every program of the lab writes in v2/v3 headers.
pub const LAB_VERSION: u8 = 1;

/// What one connection has seen so far and how to answer it.
pub struct Connection {
    framer: Framer<LabDecoder>,
    echo: bool,
    /// Bytes read from the client.
    pub bytes_in: u64,
    /// Bytes written back to the client.
    pub bytes_out: u64,
    /// Whole messages decoded.
    pub messages: u64,
    /// A wrong version byte was already reported on this connection.
    warned_version: bool,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("proto", &self.framer.proto())
            .field("pending", &self.framer.pending().len())
            .field("echo", &self.echo)
            .field("bytes_in", &self.bytes_in)
            .field("bytes_out", &self.bytes_out)
            .field("messages", &self.messages)
            .finish()
    }
}

impl Connection {
    /// `max_size` caps a v3 size field; `echo` false is the `--no-echo` server.
    pub fn new(proto: Proto, max_size: u32, echo: bool) -> Connection {
        Connection {
            framer: Framer::new(decoder_for(proto, max_size)),
            echo,
            bytes_in: 0,
            bytes_out: 0,
            messages: 0,
            warned_version: false,
        }
    }

    /// The warning for the first message of this connection whose version byte is not
    /// the lab's [`LAB_VERSION`]. Policy: such messages are still decoded and echoed
    /// (the header is otherwise well-formed, and the student needs to see the echo);
    /// the warning is given once per connection so a peer cannot flood the log.
    pub fn version_warning(&mut self, message: &Message) -> Option<String> {
        self.version_warning_for(message.version, message.order)
    }

    fn version_warning_for(&mut self, version: Option<u8>, order: Option<u32>) -> Option<String> {
        let version = version?;
        if version == LAB_VERSION || self.warned_version {
            return None;
        }
        self.warned_version = true;
        Some(format!(
            "warning: message order={} has version byte {version}, but the lab uses version {LAB_VERSION}; \
             decoded and echoed anyway (later version warnings on this connection are not shown)",
            order.unwrap_or(0)
        ))
    }

    pub fn proto(&self) -> Proto {
        self.framer.proto()
    }

    /// Take in bytes just read. Every whole message is appended to `messages` and,
    /// unless this is a `--no-echo` server, its exact bytes to `echo_out`.
    ///
    /// An error means the stream can never be framed again (a v3 size over the
    /// limit): the caller closes the connection. Messages decoded before the bad
    /// header are still returned and echoed.
    pub fn receive(
        &mut self,
        data: &[u8],
        messages: &mut Vec<Message>,
        echo_out: &mut Vec<u8>,
    ) -> Result<(), labproto::Error> {
        self.bytes_in += data.len() as u64;
        self.framer.push(data);
        let proto = self.framer.proto();
        while let Some(frame) = self.framer.next_frame()? {
            let message = Message::decode(proto, frame.bytes)?;
            if self.echo {
                echo_out.extend_from_slice(frame.bytes);
            }
            messages.push(message);
            self.messages += 1;
        }
        Ok(())
    }

    /// Call when the client closed its side: an error when it stopped mid-message.
    /// [`Connection::receive`] for a server that logs no per-message lines
    /// (`--quiet`, benchmarks): the same framing, checks and echo, without building a
    /// [`Message`] (and allocating its payload) per message. `warning` receives the
    /// version warning if this data brought the first one (also when a later message
    /// in the same data is an error).
    pub fn receive_quiet(
        &mut self,
        data: &[u8],
        echo_out: &mut Vec<u8>,
        warning: &mut Option<String>,
    ) -> Result<(), labproto::Error> {
        self.bytes_in += data.len() as u64;
        self.framer.push(data);
        let proto = self.framer.proto();
        while let Some(frame) = self.framer.next_frame()? {
            // The same header checks as `Message::decode`, on borrowed bytes.
            let (version, order) = match proto {
                Proto::Text => (None, None),
                Proto::V2 => {
                    let r = labproto::v2::Repr::parse(frame.bytes)?;
                    (Some(r.version), Some(r.order))
                }
                Proto::V3 => {
                    let r = labproto::v3::Repr::parse(frame.bytes)?;
                    (Some(r.version), Some(r.order))
                }
            };
            if self.echo {
                echo_out.extend_from_slice(frame.bytes);
            }
            self.messages += 1;
            if !self.warned_version {
                *warning = self.version_warning_for(version, order);
            }
        }
        Ok(())
    }

    pub fn finish(&self) -> Result<(), labproto::Error> {
        self.framer.finish()
    }

    /// Bytes of an unfinished message held for this connection.
    pub fn pending_len(&self) -> usize {
        self.framer.pending().len()
    }

    pub fn record_sent(&mut self, n: usize) {
        self.bytes_out += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(order: u32, payload: &[u8]) -> Vec<u8> {
        Message::new(Proto::V3, 1, order, payload).unwrap().encode()
    }

    #[test]
    fn quiet_receive_echoes_counts_and_warns_like_receive() {
        let mut wire = v3(1, b"hello");
        let mut odd = v3(2, b"odd version");
        odd[0] = 2;
        wire.extend(&odd);
        wire.extend(v3(3, b"x"));
        let mut loud = Connection::new(Proto::V3, 1024, true);
        let mut quiet = Connection::new(Proto::V3, 1024, true);
        let (mut msgs, mut echo_loud, mut echo_quiet) = (Vec::new(), Vec::new(), Vec::new());
        let mut warnings = Vec::new();
        for chunk in wire.chunks(7) {
            loud.receive(chunk, &mut msgs, &mut echo_loud).unwrap();
            let mut warning = None;
            quiet
                .receive_quiet(chunk, &mut echo_quiet, &mut warning)
                .unwrap();
            warnings.extend(warning);
        }
        let loud_warnings: Vec<String> = msgs
            .iter()
            .filter_map(|m| loud.version_warning(m))
            .collect();
        assert_eq!(echo_quiet, wire);
        assert_eq!(echo_loud, wire);
        assert_eq!(warnings, loud_warnings);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("warning: message order=2 has version byte 2"));
        assert_eq!((quiet.bytes_in, quiet.messages), (loud.bytes_in, 3));
        let mut bad = Connection::new(Proto::V3, 4, true);
        assert_eq!(
            bad.receive_quiet(&v3(1, b"too long"), &mut Vec::new(), &mut None),
            Err(labproto::Error::SizeOverLimit {
                offset: 0,
                size: 8,
                limit: 4
            })
        );
    }

    #[test]
    fn v3_split_one_byte_at_a_time_gives_same_messages_and_echo() {
        let mut wire = v3(1, b"hello");
        wire.extend(v3(2, b""));
        wire.extend(v3(3, b"world!"));
        let mut c = Connection::new(Proto::V3, 1024, true);
        let (mut msgs, mut echo) = (Vec::new(), Vec::new());
        for b in &wire {
            c.receive(std::slice::from_ref(b), &mut msgs, &mut echo)
                .unwrap();
        }
        assert_eq!(echo, wire);
        let orders: Vec<_> = msgs.iter().map(|m| m.order).collect();
        assert_eq!(orders, [Some(1), Some(2), Some(3)]);
        assert_eq!(msgs[2].payload, b"world!");
        assert_eq!((c.bytes_in, c.messages), (wire.len() as u64, 3));
        assert_eq!(c.finish(), Ok(()));
    }

    #[test]
    fn v2_two_and_a_half_messages_then_eof_is_an_error() {
        let m1 = Message::new(Proto::V2, 1, 1, b"abcdefghijklmnopqrstuvwxyz").unwrap();
        let m2 = Message::new(Proto::V2, 1, 2, b"hi").unwrap();
        let mut wire = m1.encode();
        wire.extend(m2.encode());
        wire.extend(&m2.encode()[..10]);
        let mut c = Connection::new(Proto::V2, 1024, true);
        let (mut msgs, mut echo) = (Vec::new(), Vec::new());
        c.receive(&wire, &mut msgs, &mut echo).unwrap();
        assert_eq!(msgs, [m1, m2]);
        assert_eq!(echo, &wire[..58]);
        assert_eq!(c.pending_len(), 10);
        assert_eq!(
            c.finish().unwrap_err().to_string(),
            "stream ended inside a v2 message that starts at stream offset 58: \
             the message needs 29 bytes, only 10 arrived"
        );
    }

    #[test]
    fn v3_size_over_limit_is_refused_without_buffering_but_earlier_messages_echo() {
        let mut wire = v3(1, b"ok");
        wire.extend([1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff]);
        let mut c = Connection::new(Proto::V3, 1 << 20, true);
        let (mut msgs, mut echo) = (Vec::new(), Vec::new());
        let err = c.receive(&wire, &mut msgs, &mut echo).unwrap_err();
        assert_eq!(
            err,
            labproto::Error::SizeOverLimit {
                offset: 11,
                size: u32::MAX,
                limit: 1 << 20
            }
        );
        assert_eq!(msgs.len(), 1);
        assert_eq!(echo, v3(1, b"ok"));
        assert_eq!(c.pending_len(), 9);
    }

    #[test]
    fn text_echoes_every_chunk_as_read() {
        let mut c = Connection::new(Proto::Text, 1024, true);
        let (mut msgs, mut echo) = (Vec::new(), Vec::new());
        c.receive(b"hel", &mut msgs, &mut echo).unwrap();
        c.receive(b"lo\n", &mut msgs, &mut echo).unwrap();
        assert_eq!(echo, b"hello\n");
        assert_eq!(msgs, [Message::text(b"hel"), Message::text(b"lo\n")]);
        assert_eq!(c.finish(), Ok(()));
    }

    #[test]
    fn no_echo_decodes_but_writes_nothing() {
        let mut c = Connection::new(Proto::V3, 1024, false);
        let (mut msgs, mut echo) = (Vec::new(), Vec::new());
        c.receive(&v3(7, b"quiet"), &mut msgs, &mut echo).unwrap();
        assert_eq!(msgs.len(), 1);
        assert!(echo.is_empty());
    }

    #[test]
    fn wrong_version_is_warned_once_per_connection() {
        let mut c = Connection::new(Proto::V3, 1024, true);
        let ok = Message::new(Proto::V3, 1, 1, b"a").unwrap();
        let zero = Message::new(Proto::V3, 0, 2, b"b").unwrap();
        let max = Message::new(Proto::V3, 255, 3, b"c").unwrap();
        assert_eq!(c.version_warning(&ok), None);
        assert_eq!(
            c.version_warning(&zero).unwrap(),
            "warning: message order=2 has version byte 0, but the lab uses version 1; \
             decoded and echoed anyway (later version warnings on this connection are not shown)"
        );
        assert_eq!(c.version_warning(&max), None);
        assert_eq!(c.version_warning(&Message::text(b"x")), None);
    }

    proptest::proptest! {
        #[test]
        fn any_split_gives_the_same_echo(
            payloads in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..40), 1..6),
            cuts in proptest::collection::vec(1usize..50, 0..10),
        ) {
            let mut wire = Vec::new();
            for (i, p) in payloads.iter().enumerate() {
                wire.extend(v3(i as u32 + 1, p));
            }
            let mut c = Connection::new(Proto::V3, 1024, true);
            let (mut msgs, mut echo) = (Vec::new(), Vec::new());
            let mut rest = &wire[..];
            for cut in cuts {
                let n = cut.min(rest.len());
                c.receive(&rest[..n], &mut msgs, &mut echo).unwrap();
                rest = &rest[n..];
            }
            c.receive(rest, &mut msgs, &mut echo).unwrap();
            proptest::prop_assert_eq!(&echo, &wire);
            proptest::prop_assert_eq!(msgs.len(), payloads.len());
        }
    }
}
