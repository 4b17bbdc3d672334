//! Writes seed corpora for the fuzz targets: `seeds [CORPUS_DIR]` (default `corpus`)
//! fills CORPUS_DIR/<target>/ with inputs built from real lab traffic: streams encoded
//! by labproto, and captures of every link type built by labfixtures.

use labfixtures::{lab, Capture, Dir, LinkType};
use labproto::{v2, v3, Proto};
use labsockets_fuzz::reassembler::Op;
use labsockets_fuzz::{framer, reassembler, sniff_frames};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    match write_all(&dir) {
        Ok(n) => {
            println!("seeds: wrote {n} inputs under {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seeds: cannot write under {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}

fn write_all(dir: &Path) -> std::io::Result<usize> {
    let sets = [
        ("framer", framer_seeds()),
        ("sniff_frames", sniff_seeds()),
        ("reassembler", reassembler_seeds()),
        ("capfile", capfile_seeds()),
        (
            "report",
            sniff_seeds()
                .iter()
                .flat_map(|s| {
                    (0..labsockets_fuzz::report::RENDERINGS)
                        .map(|r| labsockets_fuzz::report::encode(s, r))
                })
                .collect(),
        ),
    ];
    let mut n = 0;
    for (target, seeds) in sets {
        let target_dir = dir.join(target);
        std::fs::create_dir_all(&target_dir)?;
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(target_dir.join(format!("seed-{i:03}")), seed)?;
            n += 1;
        }
    }
    Ok(n)
}

fn v3_msg(order: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let repr = v3::Repr {
        version: 1,
        order,
        payload,
    };
    // Payloads here are tiny; emit only fails past 4 GiB.
    if repr.emit_to_vec(&mut out).is_err() {
        out.clear();
    }
    out
}

fn framer_seeds() -> Vec<Vec<u8>> {
    let long = b"a message longer than twenty bytes, cut by 20s";
    let v2_stream = [
        v2::Repr::new(1, 1, b"hello").to_bytes().to_vec(),
        v2::Repr::new(1, 2, long).to_bytes().to_vec(),
        v2::Repr::new(1, 3, b"").to_bytes().to_vec(),
    ]
    .concat();
    let v3_stream = [
        v3_msg(1, b"hello"),
        v3_msg(2, b""),
        v3_msg(3, long),
        v3_msg(4, &[0x5a; 300]),
    ]
    .concat();
    // A header announcing more than the limits used below (1000 bytes).
    let v3_oversize = [
        v3_msg(1, b"ok"),
        vec![1, 0, 0, 0, 2, 0, 0, 0x10, 0],
        v3_msg(3, b"after"),
    ]
    .concat();
    // struct mistakes, as Python writes them (see labproto::mistakes tests).
    let native_bii20s = hex("01000000070000000500000068656c6c6f000000000000000000000000000000");
    let native_blll20s = hex(
        "01000000000000000700000000000000050000000000000068656c6c6f000000000000000000000000000000",
    );
    let little_endian_v3 = hex("01070000000500000068656c6c6f");
    let text = b"hello server\nsecond line\r\n\xff\xfe not utf-8".to_vec();

    let streams: [(Proto, &[u8]); 8] = [
        (Proto::Text, &text),
        (Proto::V2, &v2_stream),
        (Proto::V3, &v3_stream),
        (Proto::V3, &v3_oversize),
        (Proto::V2, &native_bii20s),
        (Proto::V2, &native_blll20s),
        (Proto::V3, &little_endian_v3),
        (Proto::V3, &v2_stream),
    ];
    let splits: [&[u8]; 4] = [&[], &[1], &[3, 7, 0, 29], &[9, 200]];
    let mut out = Vec::new();
    for (proto, stream) in streams {
        for split in splits {
            out.push(framer::encode(proto, 1000, split, stream));
        }
        out.push(framer::encode(proto, u16::MAX, &[5], stream));
    }
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 5005)))
}

/// One capture per link type and conversation shape.
/// Whole capture files: an echo session in pcap and pcapng, and a pcapng with two
/// interfaces of different link types.
fn capfile_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for link in [LinkType::Ethernet, LinkType::LinuxSll, LinkType::RawIp] {
        let mut cap = Capture::new(link);
        let mut flow = cap.tcp(addr("10.0.0.2:40000"), addr("10.0.0.1:5005"));
        flow.handshake(&mut cap);
        flow.send(&mut cap, Dir::C2S, &lab::v3(1, b"seed"));
        flow.close(&mut cap);
        out.push(cap.to_bytes(labfixtures::FileFormat::Pcap));
        out.push(cap.to_bytes(labfixtures::FileFormat::PcapNg));
    }
    let mut eth = Capture::new(LinkType::Ethernet);
    eth.udp(addr("10.0.0.2:40000"), addr("10.0.0.1:5005"), b"one");
    let mut sll = Capture::new(LinkType::LinuxSll);
    sll.udp(addr("10.0.0.3:40000"), addr("10.0.0.1:5005"), b"two");
    let mut ng = labfixtures::blocks::PcapNg::new();
    ng.section(false)
        .interface(1, 1500, None)
        .interface(113, 262_144, Some(9));
    for (i, cap) in [&eth, &sll].into_iter().enumerate() {
        let f = &cap.frame_list()[0];
        ng.enhanced(i as u32, f.ts_micros, &f.data, f.orig_len);
    }
    ng.section(true).interface(101, 65_535, None);
    ng.simple(b"\x45", 1);
    out.push(ng.bytes());
    out
}

/// A v3 echo session in each link type of `labfixtures::wrap` (IPv4 and IPv6), and
/// raw IP inside each tunnel.
fn wrapped_seeds() -> Vec<Vec<u8>> {
    use labfixtures::wrap::{rewrap, Tunnel, Wrap};
    let session = |v6: bool| {
        let mut cap = Capture::new(LinkType::RawIp);
        let (client, server) = if v6 {
            (addr("[2001:db8::2]:40000"), addr("[2001:db8::1]:5005"))
        } else {
            (addr("10.0.0.2:40000"), addr("10.0.0.1:5005"))
        };
        let mut flow = cap.tcp(client, server);
        flow.handshake(&mut cap);
        flow.send(&mut cap, Dir::C2S, &lab::v3(1, b"hello"));
        flow.send(&mut cap, Dir::S2C, &lab::v3(1, b"hello"));
        flow.close(&mut cap);
        cap
    };
    let encode = |dlt: u32, frames: Vec<(u64, Vec<u8>)>| {
        let frames: Vec<&[u8]> = frames.iter().map(|(_, f)| f.as_slice()).collect();
        sniff_frames::encode(dlt as i32, None, &frames)
    };
    let mut out = Vec::new();
    for w in Wrap::ALL {
        for v6 in [false, true] {
            out.push(encode(w.linktype(), rewrap(&session(v6), 5005, None, Some(w))));
        }
    }
    for t in Tunnel::ALL {
        let cap = session(t != Tunnel::Ipip);
        out.push(encode(12, rewrap(&cap, 5005, Some(t), None)));
    }
    out
}

fn sniff_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for link in LinkType::all() {
        for (shape, v6) in [(0, false), (1, true), (2, false), (3, false)] {
            let mut cap = Capture::new(link);
            let (client, server) = if v6 {
                (addr("[::1]:40000"), addr("[::1]:5005"))
            } else {
                (addr("10.0.0.2:40000"), addr("10.0.0.1:5005"))
            };
            match shape {
                0 => {
                    // v3 messages, one split across segments, then a clean close.
                    let mut flow = cap.tcp(client, server);
                    flow.handshake(&mut cap);
                    flow.send(&mut cap, Dir::C2S, &lab::v3(1, b"hello"));
                    flow.send_split(&mut cap, Dir::C2S, &lab::v3(2, b"split over segments"), 7);
                    flow.send(&mut cap, Dir::S2C, &lab::v3(1, b"reply"));
                    flow.close(&mut cap);
                }
                1 => {
                    // v2 with an out-of-order segment and a retransmission.
                    let mut flow = cap.tcp(client, server);
                    flow.handshake(&mut cap);
                    let a = lab::v2(1, b"first");
                    let b = lab::v2(2, b"second message, longer than 20");
                    flow.segment_at(&mut cap, Dir::C2S, a.len() as u32, &b);
                    flow.send(&mut cap, Dir::C2S, &a);
                    flow.advance_seq(Dir::C2S, b.len() as u32);
                    flow.segment_at(&mut cap, Dir::C2S, 0, &a);
                    flow.rst(&mut cap, Dir::C2S);
                }
                2 => {
                    // Text over TCP with a capture gap, and a UDP exchange.
                    let mut flow = cap.tcp(client, server);
                    flow.handshake(&mut cap);
                    flow.send(&mut cap, Dir::C2S, b"hello server\n");
                    flow.advance_seq(Dir::C2S, 10);
                    flow.send(&mut cap, Dir::C2S, b"after a gap\n");
                    flow.ack(&mut cap, Dir::S2C);
                    cap.udp(addr("10.0.0.2:40001"), server, b"udp text");
                    cap.udp(server, addr("10.0.0.2:40001"), b"udp reply");
                }
                _ => {
                    // Mid-stream pickup (no handshake) and a refused connection.
                    let mut flow = cap.tcp(client, server);
                    flow.send(
                        &mut cap,
                        Dir::C2S,
                        &[lab::v3(7, b"mid"), lab::v3(8, b"stream")].concat(),
                    );
                    let mut refused = cap.tcp(addr("10.0.0.2:40002"), server);
                    refused.refused(&mut cap);
                }
            }
            let frames: Vec<&[u8]> = cap.frame_list().iter().map(|f| f.data.as_slice()).collect();
            let dlt = link.dlt() as i32;
            out.push(sniff_frames::encode(dlt, None, &frames));
            if shape == 0 {
                out.push(sniff_frames::encode(dlt, Some(Proto::V2), &frames));
            }
        }
    }
    // The extra link types labsniff reads: raw IPv4 / IPv6 (228, 229), LOOP (108).
    for (dlt, v6) in [(228, false), (229, true), (108, false)] {
        let mut cap = Capture::new(LinkType::RawIp);
        let (client, server) = if v6 {
            (addr("[::1]:40000"), addr("[::1]:5005"))
        } else {
            (addr("127.0.0.1:40000"), addr("127.0.0.1:5005"))
        };
        let mut flow = cap.tcp(client, server);
        flow.handshake(&mut cap);
        flow.send(&mut cap, Dir::C2S, &lab::v3(1, b"hello"));
        flow.close(&mut cap);
        let frames: Vec<Vec<u8>> = cap
            .frame_list()
            .iter()
            .map(|f| {
                if dlt == 108 {
                    // LOOP: AF_INET (2) in network byte order before the IP header.
                    [vec![0, 0, 0, 2], f.data.clone()].concat()
                } else {
                    f.data.clone()
                }
            })
            .collect();
        let frames: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        out.push(sniff_frames::encode(dlt, None, &frames));
    }
    out.extend(wrapped_seeds());
    // IP fragments: a UDP datagram and a TCP segment over a small MTU, IPv4 and IPv6,
    // the UDP fragments in reverse order (the defragmenter's paths).
    for v6 in [false, true] {
        let mut cap = Capture::new(LinkType::Ethernet);
        let (client, server) = if v6 {
            (addr("[fd77::2]:40000"), addr("[fd77::1]:5005"))
        } else {
            (addr("10.77.0.2:40000"), addr("10.77.0.1:5005"))
        };
        let packet = cap.udp_ip_packet(client, server, &lab::v3(1, &[b'x'; 600]));
        for f in labfixtures::fragment::fragment(&packet, 300, 9)
            .iter()
            .rev()
        {
            cap.push_ip(f, false);
        }
        let mut flow = cap.tcp(client, server);
        flow.handshake(&mut cap);
        flow.send(
            &mut cap.fragmenting(300),
            Dir::C2S,
            &lab::v3(2, &[b'y'; 500]),
        );
        flow.close(&mut cap);
        let frames: Vec<&[u8]> = cap.frame_list().iter().map(|f| f.data.as_slice()).collect();
        out.push(sniff_frames::encode(1, None, &frames));
    }
    out
}

fn reassembler_seeds() -> Vec<Vec<u8>> {
    let data: Vec<u8> = (0..200u8).collect();
    let other: Vec<u8> = (0..200u8).map(|b| b ^ 0xff).collect();
    let ins = |offset: i64, data: &'static [u8], extra: usize| Op::Insert {
        offset,
        data,
        extra,
    };
    let data: &'static [u8] = Box::leak(data.into_boxed_slice());
    let other: &'static [u8] = Box::leak(other.into_boxed_slice());
    let cases: Vec<(u32, u16, Vec<Op<'static>>)> = vec![
        // In order.
        (
            1000,
            4096,
            vec![
                ins(0, &data[..50], 0),
                ins(50, &data[50..120], 0),
                Op::Flush { end: None },
            ],
        ),
        // Out of order, then the hole filled; overlapping retransmission with other bytes.
        (
            u32::MAX - 30,
            4096,
            vec![
                ins(60, &data[60..100], 0),
                ins(20, &other[20..70], 0),
                ins(0, &data[..30], 0),
                ins(90, &other[90..150], 0),
                Op::Flush { end: Some(160) },
            ],
        ),
        // A hole acknowledged by the peer.
        (
            7,
            4096,
            vec![
                ins(0, &data[..10], 0),
                ins(30, &data[30..40], 0),
                Op::Ack {
                    offset: 35,
                    deferred: true,
                },
                Op::Ack {
                    offset: 60,
                    deferred: false,
                },
            ],
        ),
        // Cut by the snaplen, then data past the cut.
        (
            5000,
            4096,
            vec![
                ins(0, &data[..20], 30),
                ins(50, &data[50..80], 0),
                ins(-10, &data[..5], 0),
            ],
        ),
        // A small buffer that overflows.
        (
            1,
            16,
            vec![
                ins(100, &data[..40], 0),
                ins(10, &data[10..30], 0),
                ins(0, &data[..5], 0),
                Op::Flush { end: None },
            ],
        ),
        // Empty segments, stale ones, a flush with a FIN beyond the data.
        (
            99,
            64,
            vec![
                ins(0, &[], 0),
                ins(-40, &data[..20], 0),
                Op::Flush { end: Some(300) },
                ins(300, &data[..9], 0),
            ],
        ),
    ];
    cases
        .iter()
        .map(|(isn, cap, ops)| reassembler::encode(*isn, *cap, ops))
        .collect()
}
