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
//! - [`fragment`]: IPv4 and IPv6 fragmentation of a built IP packet to an MTU;
//!   [`Capture::udp_fragmented`] and [`Capture::fragmenting`] capture fragments.
//! - [`lab`]: the lab's v2/v3 payloads, encoded by labproto.
//! - [`synth`]: large lab sessions streamed straight to disk in constant memory.
//! - [`wrap`]: a raw-IP capture's packets inside other link types (PPP, Cisco HDLC,
//!   PPPoE, NFLOG, 802.11, radiotap, Prism, FDDI) and IP tunnels (IP-in-IP, 6in4,
//!   IPv6-in-IPv6, Teredo), headers laid out by hand.
//!
//! ## What readers of these files must expect (checked by the tests)
//! - libpcap reports DLT numbers, not LINKTYPEs: a LINKTYPE_RAW (101) file reads as
//!   DLT 12 on Linux ([`LinkType::dlt`]). 228/229/108 read back unchanged.
//! - Frames between loopback addresses carry what `tcpdump -i any` records on `lo`:
//!   SLL/SLL2 ARPHRD 772 with an all-zero address and packet type 0 (PACKET_HOST) in
//!   both directions; etherparse 0.18's `from_linux_sll` / `LinuxSllHeaderSlice`
//!   refuse ARPHRD 772, so readers must parse that header themselves. On other
//!   addresses the capture is taken on the server: its own frames are type 4
//!   (PACKET_OUTGOING), ARPHRD 1, MACs 02:00:00:00:00:01 (client) / :02 (server).
//! - LINKTYPE_NULL: AF_INET 2; AF_INET6 24 unless [`Capture::set_null_af_inet6`].
//! - SYN and SYN-ACK carry MSS 65495, SACK permitted, window scale 7 (window field
//!   65535); later segments have window field 512 (65536 after scaling). With
//!   [`TcpFlow::with_timestamps`] every segment but RSTs carries the timestamps option.
//! - IPv4: TTL 64, DF set, identification counting up from 1 per capture; IPv6: hop
//!   limit 64, flow label 0. All IPv4, TCP and UDP checksums are correct.
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

pub mod blocks;
mod capture;
pub mod fragment;
pub mod frame;
pub mod lab;
pub mod link;
pub mod savefile;
pub mod synth;
mod tcp_flow;
pub mod wrap;

pub use capture::{Capture, Fragmenting, Frame, FIRST_TIMESTAMP_MICROS, FRAME_SPACING_MICROS};
pub use link::LinkType;
pub use savefile::FileFormat;
pub use tcp_flow::{Dir, FrameSink, TcpFlow, CLIENT_ISN, SERVER_ISN};
