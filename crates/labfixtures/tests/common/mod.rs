//! Reading captures back with libpcap (the `pcap` crate) and etherparse: the
//! independent path the fixtures are checked against.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};
use labfixtures::LinkType;

/// One record as libpcap hands it over.
#[derive(Debug, Clone)]
pub struct Record {
    pub ts_micros: u64,
    pub caplen: u32,
    pub len: u32,
    pub data: Vec<u8>,
}

/// A unique path in the temp directory, removed when dropped.
#[derive(Debug)]
pub struct TempPath(pub PathBuf);

impl TempPath {
    pub fn new(name: &str) -> TempPath {
        TempPath(std::env::temp_dir().join(format!("labfixtures-{}-{name}", std::process::id())))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Every record of a savefile, read by libpcap; also returns the datalink number.
pub fn read_with_libpcap(path: &Path) -> (i32, Vec<Record>) {
    let mut cap = pcap::Capture::from_file(path).unwrap();
    let datalink = cap.get_datalink().0;
    let mut out = Vec::new();
    // Bounded: no fixture here has anywhere near a million frames.
    for _ in 0..1_000_000 {
        match cap.next_packet() {
            Ok(p) => out.push(Record {
                ts_micros: p.header.ts.tv_sec as u64 * 1_000_000 + p.header.ts.tv_usec as u64,
                caplen: p.header.caplen,
                len: p.header.len,
                data: p.data.to_vec(),
            }),
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => panic!("libpcap failed reading {}: {e}", path.display()),
        }
    }
    (datalink, out)
}

/// What the link header said, beyond the IP packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LinkFacts {
    pub vlan_ids: Vec<u16>,
    /// SLL/SLL2 packet type and ARPHRD.
    pub sll: Option<(u16, u16)>,
    /// LINKTYPE_NULL address family.
    pub null_af: Option<u32>,
}

/// Slice a frame with etherparse according to its link type.
pub fn slice(link: LinkType, data: &[u8]) -> (SlicedPacket<'_>, LinkFacts) {
    let mut facts = LinkFacts::default();
    let packet = match link {
        LinkType::Ethernet | LinkType::EthernetVlan { .. } | LinkType::EthernetQinQ { .. } => {
            let p = SlicedPacket::from_ethernet(data).unwrap();
            for ext in &p.link_exts {
                if let etherparse::LinkExtSlice::Vlan(v) = ext {
                    facts.vlan_ids.push(v.vlan_identifier().value());
                }
            }
            p
        }
        LinkType::LinuxSll => {
            // By the spec: packet type u16, ARPHRD u16, address length u16, address
            // 8 bytes, protocol u16. etherparse 0.18 refuses ARPHRD 772 (loopback,
            // what `tcpdump -i any` records for `lo`), so read the header by hand and
            // let etherparse check the Ethernet-card frames too.
            let ptype = u16::from_be_bytes([data[0], data[1]]);
            let arphrd = u16::from_be_bytes([data[2], data[3]]);
            assert_eq!(
                u16::from_be_bytes([data[4], data[5]]),
                6,
                "SLL address length"
            );
            facts.sll = Some((ptype, arphrd));
            if arphrd == 1 {
                let p = SlicedPacket::from_linux_sll(data).unwrap();
                if let Some(etherparse::LinkSlice::LinuxSll(s)) = &p.link {
                    let ptype_ep: u16 = s.packet_type().into();
                    assert_eq!((ptype_ep, s.arp_hardware_type().0), (ptype, arphrd));
                }
            }
            let proto = u16::from_be_bytes([data[14], data[15]]);
            SlicedPacket::from_ether_type(EtherType(proto), &data[16..]).unwrap()
        }
        LinkType::LinuxSll2 => {
            // etherparse has no SLL2 parser: read the 20-byte header by its spec
            // (protocol u16, reserved u16, ifindex u32, ARPHRD u16, pkttype u8,
            // addr len u8, addr 8 bytes), then slice from the protocol.
            let proto = u16::from_be_bytes([data[0], data[1]]);
            let arphrd = u16::from_be_bytes([data[8], data[9]]);
            facts.sll = Some((u16::from(data[10]), arphrd));
            assert_eq!(data[11], 6, "SLL2 address length");
            SlicedPacket::from_ether_type(EtherType(proto), &data[20..]).unwrap()
        }
        LinkType::NullLe | LinkType::NullBe => {
            let raw = [data[0], data[1], data[2], data[3]];
            facts.null_af = Some(if link == LinkType::NullLe {
                u32::from_le_bytes(raw)
            } else {
                u32::from_be_bytes(raw)
            });
            SlicedPacket::from_ip(&data[4..]).unwrap()
        }
        LinkType::RawIp => SlicedPacket::from_ip(data).unwrap(),
    };
    (packet, facts)
}

/// The transport facts of a frame, with every checksum verified by etherparse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Tcp {
        src_port: u16,
        dst_port: u16,
        seq: u32,
        ack: u32,
        syn: bool,
        fin: bool,
        rst: bool,
        header_len: usize,
        payload: Vec<u8>,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
        payload: Vec<u8>,
    },
}

/// Decode the IP and transport layers; panics when a checksum does not verify.
pub fn transport(p: &SlicedPacket<'_>) -> (bool, Seg) {
    let (ipv6, src, dst): (bool, Vec<u8>, Vec<u8>) = match p.net.as_ref().unwrap() {
        NetSlice::Ipv4(ip) => {
            let h = ip.header();
            assert_eq!(
                h.to_header().calc_header_checksum(),
                h.header_checksum(),
                "IPv4 header checksum"
            );
            assert_eq!(h.ttl(), 64);
            assert!(h.dont_fragment());
            (false, h.source().to_vec(), h.destination().to_vec())
        }
        NetSlice::Ipv6(ip) => {
            let h = ip.header();
            assert_eq!(h.hop_limit(), 64);
            (true, h.source().to_vec(), h.destination().to_vec())
        }
        NetSlice::Arp(_) => panic!("unexpected ARP"),
    };
    let seg = match p.transport.as_ref().unwrap() {
        TransportSlice::Tcp(t) => {
            let expected = if ipv6 {
                t.calc_checksum_ipv6(to16(&src), to16(&dst)).unwrap()
            } else {
                t.calc_checksum_ipv4(to4(&src), to4(&dst)).unwrap()
            };
            assert_eq!(t.checksum(), expected, "TCP checksum");
            Seg::Tcp {
                src_port: t.source_port(),
                dst_port: t.destination_port(),
                seq: t.sequence_number(),
                ack: t.acknowledgment_number(),
                syn: t.syn(),
                fin: t.fin(),
                rst: t.rst(),
                header_len: t.header_slice().len(),
                payload: t.payload().to_vec(),
            }
        }
        TransportSlice::Udp(u) => {
            let h = u.to_header();
            let expected = if ipv6 {
                h.calc_checksum_ipv6_raw(to16(&src), to16(&dst), u.payload())
                    .unwrap()
            } else {
                h.calc_checksum_ipv4_raw(to4(&src), to4(&dst), u.payload())
                    .unwrap()
            };
            assert_eq!(u.checksum(), expected, "UDP checksum");
            Seg::Udp {
                src_port: u.source_port(),
                dst_port: u.destination_port(),
                payload: u.payload().to_vec(),
            }
        }
        other => panic!("unexpected transport {other:?}"),
    };
    (ipv6, seg)
}

fn to4(v: &[u8]) -> [u8; 4] {
    v.try_into().unwrap()
}

fn to16(v: &[u8]) -> [u8; 16] {
    v.try_into().unwrap()
}

/// Is `tshark` runnable here?
pub fn tshark_available() -> bool {
    std::process::Command::new("tshark")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
