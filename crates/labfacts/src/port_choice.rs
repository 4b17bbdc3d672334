//! Which port to analyse a capture file on (`--port auto`, the default for `-r`).
//!
//! A first, bounded pass over the file: each TCP/UDP conversation's first payloads
//! each way (whole, up to [`PROBE_BYTES`] and [`PROBE_PAYLOADS`]: a v3 chain cut in
//! the middle of a message would not score high) are kept and scored with
//! [`labproto::detect`]. A
//! conversation is lab-like when its first sender's bytes are v2 or v3 with a score of
//! at least [`HIGH_CONFIDENCE`], or text with that score whose answer echoes it (any
//! printable protocol, HTTP or SMTP, is "text"; the lab's servers echo). It counts
//! under its server port: a SYN's destination, otherwise the port the first bytes were
//! sent to. The port with the most lab-like conversations is analysed.
//!
//! Without an explicit `--port auto` the pass stops at the first TCP/UDP packet to or
//! from the default port (5005), which is then analysed: for a capture of a lab run on
//! port 5005 the extra pass reads a few frames. The choice and its reason are the
//! summary's `port_choice` (SCHEMA.md).

use crate::capfile::{CaptureFile, Next};
use crate::event::TransportKind;
use crate::flow_hash::FlowHashBuilder;
use crate::link::LinkKind;
use crate::packet::{self, Decoded, Packet, Transport};
use labproto::Proto;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

/// Bytes kept per direction of a conversation (a longer first payload is cut here).
pub const PROBE_BYTES: usize = 256;
/// Payloads kept per direction.
pub const PROBE_PAYLOADS: u8 = 3;
/// Lowest `labproto::detect` score that counts.
pub const HIGH_CONFIDENCE: u8 = 90;
/// Conversations probed at most; later ones are not looked at.
pub const CONVERSATIONS_MAX: usize = 1 << 16;

pub use crate::event::{How, PortChoice};

/// What the command line asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// `--port N`.
    Port(u16),
    /// `--port auto` given: always search.
    Auto,
    /// Nothing given (a file): the default port when used, else search.
    AutoDefault,
}

impl std::str::FromStr for Request {
    type Err = String;
    fn from_str(s: &str) -> Result<Request, String> {
        if s.eq_ignore_ascii_case("auto") {
            return Ok(Request::Auto);
        }
        match s.parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("'{s}' is not a port (1-65535) nor 'auto'")),
            Ok(p) => Ok(Request::Port(p)),
        }
    }
}

/// Choose the port for `path` as `request` says. A file that cannot be opened or read
/// gets the default port: the analysis then says what is wrong with it.
pub fn choose(path: &Path, request: Request, max_size: u32) -> (u16, PortChoice) {
    let default = labproto::LAB_PORT;
    let stop_at_default = match request {
        Request::Port(p) => return (p, PortChoice::plain(How::Given)),
        Request::Auto => false,
        Request::AutoDefault => true,
    };
    let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    if !regular {
        return (default, PortChoice::plain(How::NotSearched));
    }
    let Ok(mut file) = CaptureFile::open(path) else {
        return (default, PortChoice::plain(How::Default));
    };
    let mut probe = Probe::new(default, max_size);
    let mut links: Vec<(i32, Option<LinkKind>)> = Vec::new();
    let mut number = 0u64;
    loop {
        let frame = match file.next_frame() {
            Next::Frame(f) => f,
            Next::Skipped(_) | Next::Pause => continue,
            Next::Fatal(_) | Next::End => break,
        };
        number += 1;
        let kind = match links.iter().find(|(d, _)| *d == frame.dlt) {
            Some((_, k)) => *k,
            None => {
                let k = LinkKind::from_dlt(frame.dlt).ok();
                if links.len() < 64 {
                    links.push((frame.dlt, k));
                }
                k
            }
        };
        let Some(kind) = kind else { continue };
        let pkt = match packet::decode_fast(kind, number, frame.ts, frame.data) {
            Some(pkt) => pkt,
            None => match packet::decode_frame_general(kind, number, frame.ts, frame.data) {
                Ok(Decoded::Packet(pkt)) => pkt,
                _ => continue,
            },
        };
        probe.packet(&pkt);
        if stop_at_default && probe.default_used {
            break;
        }
    }
    probe.choose(stop_at_default)
}

type Key = (TransportKind, SocketAddr, SocketAddr);

/// One conversation's first bytes.
#[derive(Debug)]
struct Conv {
    /// The first payload's sender (index 0 of `bytes`).
    first: Option<SocketAddr>,
    /// A SYN's destination port.
    syn_port: Option<u16>,
    /// The first payload's destination port.
    to_port: u16,
    bytes: [Vec<u8>; 2],
    /// Payloads kept each way; `PROBE_PAYLOADS + 1` once no more are wanted.
    payloads: [u8; 2],
    /// TCP: the next sequence number expected each way (retransmissions skipped).
    next_seq: [Option<u32>; 2],
    /// Scored already (both ways full): its buffers are freed.
    decided: bool,
}

#[derive(Debug)]
struct Probe {
    default: u16,
    max_size: u32,
    default_used: bool,
    convs: HashMap<Key, Conv, FlowHashBuilder>,
    /// Lab-like conversations per (transport, server port): text, v2, v3.
    found: HashMap<(TransportKind, u16), [u64; 3], FlowHashBuilder>,
}

impl Probe {
    fn new(default: u16, max_size: u32) -> Probe {
        Probe {
            default,
            max_size,
            default_used: false,
            convs: HashMap::default(),
            found: HashMap::default(),
        }
    }

    fn packet(&mut self, pkt: &Packet<'_>) {
        if pkt.src.port() == self.default || pkt.dst.port() == self.default {
            self.default_used = true;
        }
        let (transport, payload, seq) = match &pkt.transport {
            Transport::Tcp(seg) => (TransportKind::Tcp, seg.payload, Some(seg)),
            Transport::Udp { payload, .. } => (TransportKind::Udp, *payload, None),
        };
        let key = if pkt.src <= pkt.dst {
            (transport, pkt.src, pkt.dst)
        } else {
            (transport, pkt.dst, pkt.src)
        };
        if !self.convs.contains_key(&key) {
            if self.convs.len() >= CONVERSATIONS_MAX {
                return;
            }
            self.convs.insert(
                key,
                Conv {
                    first: None,
                    syn_port: None,
                    to_port: 0,
                    bytes: [Vec::new(), Vec::new()],
                    payloads: [0; 2],
                    next_seq: [None; 2],
                    decided: false,
                },
            );
        }
        let Some(conv) = self.convs.get_mut(&key) else {
            return;
        };
        if conv.decided {
            return;
        }
        if let Some(seg) = seq {
            if seg.flags.syn && !seg.flags.ack && conv.syn_port.is_none() {
                conv.syn_port = Some(pkt.dst.port());
            }
        }
        if payload.is_empty() {
            return;
        }
        let d = match conv.first {
            None => {
                conv.first = Some(pkt.src);
                conv.to_port = pkt.dst.port();
                0
            }
            Some(a) if a == pkt.src => 0,
            Some(_) => 1,
        };
        if let Some(seg) = seq {
            // In order only: a retransmission or a segment after a gap is not kept.
            if let Some(next) = conv.next_seq[d] {
                if seg.seq != next {
                    return;
                }
            }
            conv.next_seq[d] = Some(seg.seq.wrapping_add(payload.len() as u32));
        }
        if conv.payloads[d] >= PROBE_PAYLOADS {
            return;
        }
        let kept = &mut conv.bytes[d];
        if kept.is_empty() {
            kept.extend_from_slice(&payload[..payload.len().min(PROBE_BYTES)]);
            conv.payloads[d] += 1;
        } else if kept.len() + payload.len() <= PROBE_BYTES {
            kept.extend_from_slice(payload);
            conv.payloads[d] += 1;
        } else {
            // Whole payloads only: this one would be cut.
            conv.payloads[d] = PROBE_PAYLOADS;
        }
        if conv.payloads.iter().all(|&n| n >= PROBE_PAYLOADS) {
            let verdict = lab_like(&conv.bytes, self.max_size);
            let port = conv.server_port();
            conv.decided = true;
            conv.bytes = [Vec::new(), Vec::new()];
            if let Some(p) = verdict {
                count(&mut self.found, transport, port, p);
            }
        }
    }

    fn choose(mut self, stop_at_default: bool) -> (u16, PortChoice) {
        let default = self.default;
        if stop_at_default && self.default_used {
            let mut c = PortChoice::plain(How::Default);
            c.default_port_used = true;
            return (default, c);
        }
        for ((transport, _, _), conv) in self.convs.drain() {
            if conv.decided {
                continue;
            }
            if let Some(p) = lab_like(&conv.bytes, self.max_size) {
                count(&mut self.found, transport, conv.server_port(), p);
            }
        }
        let best = self
            .found
            .iter()
            .map(|(&(t, port), n)| (t, port, *n, n.iter().sum::<u64>()))
            .max_by(|a, b| {
                a.3.cmp(&b.3)
                    // TCP before UDP, then the lower port.
                    .then((b.0 as u8).cmp(&(a.0 as u8)))
                    .then(b.1.cmp(&a.1))
            });
        let mut choice = PortChoice::plain(How::NoneFound);
        choice.default_port_used = self.default_used;
        let Some((transport, port, per_proto, total)) = best else {
            return (default, choice);
        };
        let protos = [Proto::Text, Proto::V2, Proto::V3];
        let mut most = 0;
        for i in 1..3 {
            if per_proto[i] > per_proto[most] {
                most = i;
            }
        }
        choice.how = if port == default {
            How::Default
        } else {
            How::Found
        };
        choice.transport = Some(transport);
        choice.conversations = total;
        choice.proto = Some(protos[most]);
        (port, choice)
    }
}

impl Conv {
    fn server_port(&self) -> u16 {
        self.syn_port.unwrap_or(self.to_port)
    }
}

fn count(
    found: &mut HashMap<(TransportKind, u16), [u64; 3], FlowHashBuilder>,
    transport: TransportKind,
    port: u16,
    proto: Proto,
) {
    let i = match proto {
        Proto::Text => 0,
        Proto::V2 => 1,
        Proto::V3 => 2,
    };
    found.entry((transport, port)).or_insert([0; 3])[i] += 1;
}

/// The protocol a conversation's first bytes carry with high confidence, if any.
/// `bytes[0]`: the first sender's, `bytes[1]`: the answer's.
fn lab_like(bytes: &[Vec<u8>; 2], max_size: u32) -> Option<Proto> {
    let guess = labproto::detect::guess(&bytes[0], max_size, false)?;
    if guess.score < HIGH_CONFIDENCE {
        return None;
    }
    match guess.proto {
        Proto::V2 | Proto::V3 => Some(guess.proto),
        Proto::Text => {
            let (a, b) = (&bytes[0], &bytes[1]);
            let n = a.len().min(b.len());
            (n > 0 && a[..n] == b[..n]).then_some(Proto::Text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_counts_only_when_echoed() {
        let hello = b"hello lab\n".to_vec();
        assert_eq!(
            lab_like(&[hello.clone(), hello.clone()], 1 << 20),
            Some(Proto::Text)
        );
        let http = b"GET / HTTP/1.0\r\n\r\n".to_vec();
        assert_eq!(
            lab_like(&[http, b"HTTP/1.0 200 OK".to_vec()], 1 << 20),
            None
        );
        assert_eq!(lab_like(&[hello, Vec::new()], 1 << 20), None);
    }

    #[test]
    fn port_words() {
        assert_eq!("auto".parse::<Request>(), Ok(Request::Auto));
        assert_eq!("15099".parse::<Request>(), Ok(Request::Port(15099)));
        assert!("0".parse::<Request>().is_err());
        assert!("x".parse::<Request>().is_err());
    }
}
