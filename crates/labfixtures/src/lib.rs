//! # labfixtures: lab capture files built by a second, independent library
//!
//! The sniffer parses captures with etherparse and libpcap. Its tests need captures
//! that were built by something else, so that a shared misunderstanding cannot make
//! both sides agree on wrong bytes: here every frame is laid out with `pnet_packet`
//! (Ethernet, VLAN, Linux SLL/SLL2, IPv4, IPv6, TCP, UDP, checksums) and the pcap and
//! pcapng savefile formats are written by hand.
//!
//! ## Layout
//! - [`LinkType`]: the link layers a capture can have, with their LINKTYPE numbers.
//! - [`frame`]: the one frame builder (link header + IP + TCP/UDP) that both
//!   [`Capture`] and [`synth`] use.
//! - [`savefile`]: pcap and pcapng writers that stream records to any `io::Write`.
//! - [`Capture`]: an in-memory capture with a clock; [`TcpFlow`] scripts TCP
//!   conversations into it (handshake, data, gaps, out-of-order, teardown).
//! - [`lab`]: the lab's v2/v3 payloads, encoded by labproto.
//! - [`synth`]: large lab sessions streamed straight to disk in constant memory.
//!
//! ## Example
//! ```
//! use labfixtures::{Capture, Dir, FileFormat, LinkType};
//! let mut cap = Capture::new(LinkType::Ethernet);
//! let mut flow = cap.tcp("10.0.0.2:40000".parse().unwrap(), "10.0.0.1:5005".parse().unwrap());
//! flow.handshake(&mut cap);
//! flow.send(&mut cap, Dir::C2S, &labfixtures::lab::v3(1, b"hello"));
//! flow.close(&mut cap);
//! assert_eq!(cap.frames(), 8);
//! let bytes = cap.to_bytes(FileFormat::Pcap);
//! assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
//! ```

mod capture;
pub mod frame;
pub mod lab;
pub mod link;
pub mod savefile;
pub mod synth;
mod tcp_flow;

pub use capture::{Capture, Frame, FIRST_TIMESTAMP_MICROS, FRAME_SPACING_MICROS};
pub use link::LinkType;
pub use savefile::FileFormat;
pub use tcp_flow::{Dir, FrameSink, TcpFlow, CLIENT_ISN, SERVER_ISN};
