//! The generated Lua dissector, run by the real tshark over hand-written captures.
//!
//! Each test writes the dissector and a small pcap file (Ethernet/IPv4/TCP or UDP with
//! correct checksums, TCP with a full three-way handshake) to a temporary directory,
//! runs `tshark -X lua_script:…` with a 30 s deadline, and compares the extracted
//! `labproto.*` fields with the values of the messages that labproto's encoders wrote.
//! Without tshark on PATH every test prints "skipped: tshark not installed".
#![allow(clippy::unwrap_used)]

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use labproto::lua::{dissector, LuaOptions};
use labproto::{v2, v3, LAB_PORT};

const TSHARK_DEADLINE: Duration = Duration::from_secs(30);
const CLIENT_IP: [u8; 4] = [10, 0, 0, 1];
const SERVER_IP: [u8; 4] = [10, 0, 0, 2];
const CLIENT_PORT: u16 = 40_000;

// ---------------------------------------------------------------- pcap writing

/// A classic pcap file (microsecond timestamps, Ethernet link type) built in memory.
struct Capture {
    bytes: Vec<u8>,
    frames: u32,
}

impl Capture {
    fn new() -> Capture {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes()); // magic
        bytes.extend_from_slice(&2u16.to_le_bytes()); // version major
        bytes.extend_from_slice(&4u16.to_le_bytes()); // version minor
        bytes.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        bytes.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        bytes.extend_from_slice(&65_535u32.to_le_bytes()); // snaplen
        bytes.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
        Capture { bytes, frames: 0 }
    }

    /// Appends one Ethernet frame; returns its frame number (1-based, as tshark counts).
    fn push(&mut self, frame: &[u8]) -> u32 {
        self.frames += 1;
        let usec = self.frames * 1000;
        let len = u32::try_from(frame.len()).unwrap();
        for word in [1_700_000_000, usec, len, len] {
            self.bytes.extend_from_slice(&word.to_le_bytes());
        }
        self.bytes.extend_from_slice(frame);
        self.frames
    }
}

/// The Internet checksum (RFC 1071) over `parts` concatenated.
fn internet_checksum(parts: &[&[u8]]) -> u16 {
    let joined: Vec<u8> = parts.concat();
    let mut sum: u32 = joined
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn ipv4_frame(src: [u8; 4], dst: [u8; 4], protocol: u8, transport: &[u8]) -> Vec<u8> {
    let mut frame = vec![
        0x02, 0, 0, 0, 0, dst[3], 0x02, 0, 0, 0, 0, src[3], 0x08, 0x00,
    ];
    let total_len = u16::try_from(20 + transport.len()).unwrap();
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total_len.to_be_bytes());
    ip.extend_from_slice(&[0, 1, 0x40, 0, 64, protocol, 0, 0]);
    ip.extend_from_slice(&src);
    ip.extend_from_slice(&dst);
    let checksum = internet_checksum(&[&ip]);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(transport);
    frame
}

fn pseudo_header(src: [u8; 4], dst: [u8; 4], protocol: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(12);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&[0, protocol]);
    p.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    p
}

fn udp_frame(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut udp = Vec::with_capacity(len);
    udp.extend_from_slice(&src.1.to_be_bytes());
    udp.extend_from_slice(&dst.1.to_be_bytes());
    udp.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let checksum = internet_checksum(&[&pseudo_header(src.0, dst.0, 17, len), &udp]);
    udp[6..8].copy_from_slice(&checksum.to_be_bytes());
    ipv4_frame(src.0, dst.0, 17, &udp)
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;

/// One TCP connection; each side's sequence number advances with what it sends.
struct TcpFlow {
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    client_seq: u32,
    server_seq: u32,
}

impl TcpFlow {
    fn new(client_port: u16, server_port: u16) -> TcpFlow {
        TcpFlow {
            client: (CLIENT_IP, client_port),
            server: (SERVER_IP, server_port),
            client_seq: 1_000,
            server_seq: 50_000,
        }
    }

    fn segment(
        from: ([u8; 4], u16),
        to: ([u8; 4], u16),
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) -> Vec<u8> {
        let mut tcp = Vec::with_capacity(20 + payload.len());
        tcp.extend_from_slice(&from.1.to_be_bytes());
        tcp.extend_from_slice(&to.1.to_be_bytes());
        tcp.extend_from_slice(&seq.to_be_bytes());
        tcp.extend_from_slice(&ack.to_be_bytes());
        tcp.extend_from_slice(&[5 << 4, flags, 0xff, 0xff, 0, 0, 0, 0]);
        tcp.extend_from_slice(payload);
        let pseudo = pseudo_header(from.0, to.0, 6, tcp.len());
        let checksum = internet_checksum(&[&pseudo, &tcp]);
        tcp[16..18].copy_from_slice(&checksum.to_be_bytes());
        ipv4_frame(from.0, to.0, 6, &tcp)
    }

    /// SYN, SYN-ACK, ACK: frames 1–3 of a fresh capture.
    fn handshake(&mut self, cap: &mut Capture) {
        let (c, s) = (self.client, self.server);
        cap.push(&Self::segment(c, s, self.client_seq, 0, SYN, &[]));
        self.client_seq += 1;
        cap.push(&Self::segment(
            s,
            c,
            self.server_seq,
            self.client_seq,
            SYN | ACK,
            &[],
        ));
        self.server_seq += 1;
        cap.push(&Self::segment(
            c,
            s,
            self.client_seq,
            self.server_seq,
            ACK,
            &[],
        ));
    }

    fn client_sends(&mut self, cap: &mut Capture, payload: &[u8]) -> u32 {
        let frame = Self::segment(
            self.client,
            self.server,
            self.client_seq,
            self.server_seq,
            PSH_ACK,
            payload,
        );
        self.client_seq += u32::try_from(payload.len()).unwrap();
        cap.push(&frame)
    }

    fn server_sends(&mut self, cap: &mut Capture, payload: &[u8]) -> u32 {
        let frame = Self::segment(
            self.server,
            self.client,
            self.server_seq,
            self.client_seq,
            PSH_ACK,
            payload,
        );
        self.server_seq += u32::try_from(payload.len()).unwrap();
        cap.push(&frame)
    }
}

// ---------------------------------------------------------------- running tshark

fn tshark_installed() -> bool {
    let found = Command::new("tshark")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        skip_note!("skipped: tshark not installed");
    }
    found
}

/// A directory of its own per test, removed when the test passes (kept when
/// LABPROTO_KEEP_SCRATCH is set, to open the capture in Wireshark).
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("labproto-lua-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() && std::env::var_os("LABPROTO_KEEP_SCRATCH").is_none() {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

const FIELDS: [&str; 6] = [
    "frame.number",
    "labproto.kind",
    "labproto.version",
    "labproto.order",
    "labproto.size",
    "labproto.text",
];

/// Runs tshark with the dissector over `cap` and returns one line per frame, fields
/// separated by `|`, occurrences by `,`.
fn tshark_fields(
    scratch: &Scratch,
    options: &LuaOptions,
    cap: &Capture,
    fields: &[&str],
    extra_args: &[&str],
) -> Vec<String> {
    let lua = scratch.path("labproto.lua");
    fs::write(&lua, dissector(options)).unwrap();
    let pcap = scratch.path("capture.pcap");
    fs::write(&pcap, &cap.bytes).unwrap();
    let mut args: Vec<String> = vec![
        "-n".into(),
        "-X".into(),
        format!("lua_script:{}", lua.display()),
        "-o".into(),
        "tcp.desegment_tcp_streams:TRUE".into(),
        "-r".into(),
        pcap.display().to_string(),
        "-T".into(),
        "fields".into(),
        "-E".into(),
        "occurrence=a".into(),
        "-E".into(),
        "separator=|".into(),
    ];
    for extra in extra_args {
        args.push((*extra).into());
    }
    for field in fields {
        args.push("-e".into());
        args.push((*field).into());
    }
    let (stdout, stderr) = run_bounded(&scratch.0, "tshark", &args);
    println!("tshark {}\n{stdout}", args.join(" "));
    assert!(
        !stderr.contains("Lua") && !stderr.to_lowercase().contains("error"),
        "tshark complained:\n{stderr}"
    );
    stdout.lines().map(str::to_string).collect()
}

/// Runs `program`, killing it after [`TSHARK_DEADLINE`]; returns (stdout, stderr).
fn run_bounded(dir: &Path, program: &str, args: &[String]) -> (String, String) {
    let out_path = dir.join("stdout.txt");
    let err_path = dir.join("stderr.txt");
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + TSHARK_DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} ran longer than {TSHARK_DEADLINE:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = fs::read_to_string(&out_path).unwrap();
    let stderr = fs::read_to_string(&err_path).unwrap();
    assert!(status.success(), "{program} failed ({status}):\n{stderr}");
    (stdout, stderr)
}

/// The expected line of a frame without labproto fields.
fn empty_line(frame: u32, fields: usize) -> String {
    format!("{frame}{}", "|".repeat(fields - 1))
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

// ---------------------------------------------------------------- the tests

#[test]
fn udp_datagrams_are_text_on_the_configured_port() {
    if !tshark_installed() {
        return;
    }
    let scratch = Scratch::new("udp");
    let port = 15_005;
    let mut cap = Capture::new();
    let client = (CLIENT_IP, CLIENT_PORT);
    let first = b"hello from the UDP client";
    let second = b"second message";
    let f1 = cap.push(&udp_frame(client, (SERVER_IP, port), first));
    let f2 = cap.push(&udp_frame(client, (SERVER_IP, port), second));
    // Another port: not the lab's, so not dissected.
    let f3 = cap.push(&udp_frame(client, (SERVER_IP, port + 1), first));

    let lines = tshark_fields(&scratch, &LuaOptions { port }, &cap, &FIELDS, &[]);
    assert_eq!(
        lines,
        vec![
            format!("{f1}|text||||{}", text_of(first)),
            format!("{f2}|text||||{}", text_of(second)),
            empty_line(f3, FIELDS.len()),
        ]
    );

    // The port preference moves the dissector at run time.
    let other_port = format!("labproto.port:{}", port + 1);
    let lines = tshark_fields(
        &scratch,
        &LuaOptions { port },
        &cap,
        &FIELDS,
        &["-o", &other_port],
    );
    assert_eq!(
        lines,
        vec![
            empty_line(f1, FIELDS.len()),
            empty_line(f2, FIELDS.len()),
            format!("{f3}|text||||{}", text_of(first)),
        ]
    );
}

#[test]
fn v2_records_coalesced_split_and_truncated() {
    if !tshark_installed() {
        return;
    }
    let scratch = Scratch::new("v2");
    let hello = v2::Repr::new(1, 1, b"hello");
    let world = v2::Repr::new(1, 2, b"world");
    let alphabet = v2::Repr::new(1, 3, b"abcdefghijklmnopqrstuvwxyz");
    assert!(alphabet.truncated());
    let long = alphabet.to_bytes();

    let mut cap = Capture::new();
    let mut flow = TcpFlow::new(CLIENT_PORT, LAB_PORT);
    flow.handshake(&mut cap);
    let both = flow.client_sends(&mut cap, &[hello.to_bytes(), world.to_bytes()].concat());
    let head = flow.client_sends(&mut cap, &long[..10]);
    let tail = flow.client_sends(&mut cap, &long[10..]);
    // The server's echo in text: decided separately for the other direction.
    let echo = flow.server_sends(&mut cap, b"ok");

    let fields: Vec<&str> = FIELDS
        .iter()
        .copied()
        .chain(["labproto.truncated"])
        .collect();
    let lines = tshark_fields(&scratch, &LuaOptions::default(), &cap, &fields, &[]);
    let v2_line = |frame: u32, reprs: &[&v2::Repr]| {
        let join = |f: &dyn Fn(&v2::Repr) -> String| {
            reprs.iter().map(|r| f(r)).collect::<Vec<_>>().join(",")
        };
        format!(
            "{frame}|{}|{}|{}|{}|{}|{}",
            join(&|_| "v2".into()),
            join(&|r| r.version.to_string()),
            join(&|r| r.order.to_string()),
            join(&|r| r.size.to_string()),
            join(&|r| text_of(r.payload)),
            join(&|r| if r.truncated() { "1" } else { "0" }.into()),
        )
    };
    assert_eq!(
        lines,
        vec![
            empty_line(1, fields.len()),
            empty_line(2, fields.len()),
            empty_line(3, fields.len()),
            v2_line(both, &[&hello, &world]),
            empty_line(head, fields.len()),
            v2_line(tail, &[&alphabet]),
            format!("{echo}|text||||ok|"),
        ]
    );
}

/// 3000 printable bytes without the `,` tshark puts between occurrences.
fn long_payload() -> Vec<u8> {
    (0..3000u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789"[(i % 36) as usize])
        .collect()
}

#[test]
fn v3_reassembled_across_segments_and_coalesced() {
    if !tshark_installed() {
        return;
    }
    let scratch = Scratch::new("v3");
    let payload = long_payload();
    let big = v3::Repr {
        version: 1,
        order: 1,
        payload: &payload,
    };
    let hello = v3::Repr {
        version: 1,
        order: 2,
        payload: b"hello",
    };
    let world = v3::Repr {
        version: 1,
        order: 3,
        payload: b"world!",
    };
    let big_bytes = big.to_vec().unwrap();
    assert_eq!(big_bytes.len(), v3::HEADER_LEN + 3000);

    let mut cap = Capture::new();
    let mut flow = TcpFlow::new(CLIENT_PORT, LAB_PORT);
    flow.handshake(&mut cap);
    let part1 = flow.client_sends(&mut cap, &big_bytes[..1000]);
    let part2 = flow.client_sends(&mut cap, &big_bytes[1000..2000]);
    let part3 = flow.client_sends(&mut cap, &big_bytes[2000..]);
    let pair = [hello.to_vec().unwrap(), world.to_vec().unwrap()].concat();
    let coalesced = flow.client_sends(&mut cap, &pair);

    let lines = tshark_fields(&scratch, &LuaOptions::default(), &cap, &FIELDS, &[]);
    let v3_line = |frame: u32, reprs: &[&v3::Repr]| {
        let join = |f: &dyn Fn(&v3::Repr) -> String| {
            reprs.iter().map(|r| f(r)).collect::<Vec<_>>().join(",")
        };
        format!(
            "{frame}|{}|{}|{}|{}|{}",
            join(&|_| "v3".into()),
            join(&|r| r.version.to_string()),
            join(&|r| r.order.to_string()),
            join(&|r| r.size().to_string()),
            join(&|r| text_of(r.payload)),
        )
    };
    assert_eq!(
        lines,
        vec![
            empty_line(1, FIELDS.len()),
            empty_line(2, FIELDS.len()),
            empty_line(3, FIELDS.len()),
            empty_line(part1, FIELDS.len()),
            empty_line(part2, FIELDS.len()),
            v3_line(part3, &[&big]),
            v3_line(coalesced, &[&hello, &world]),
        ]
    );
}

#[test]
fn v3_tail_with_more_messages_empty_payload_and_oversize() {
    if !tshark_installed() {
        return;
    }
    let scratch = Scratch::new("v3-edges");
    let payload = long_payload();
    let big = v3::Repr {
        version: 1,
        order: 1,
        payload: &payload,
    };
    let hello = v3::Repr {
        version: 1,
        order: 2,
        payload: b"hello",
    };
    let empty = v3::Repr {
        version: 1,
        order: 3,
        payload: b"",
    };
    let oversize_size = labproto::DEFAULT_MAX_SIZE + 1;
    let mut oversize = v3::Repr {
        version: 1,
        order: 4,
        payload: b"xyz",
    }
    .to_vec()
    .unwrap();
    v3::Packet::new_unchecked(&mut oversize[..]).set_size(oversize_size);

    let big_bytes = big.to_vec().unwrap();
    let mut cap = Capture::new();
    let mut flow = TcpFlow::new(CLIENT_PORT, LAB_PORT);
    flow.handshake(&mut cap);
    let head = flow.client_sends(&mut cap, &big_bytes[..1500]);
    let rest = [
        &big_bytes[1500..],
        &hello.to_vec().unwrap()[..],
        &empty.to_vec().unwrap()[..],
    ]
    .concat();
    let tail = flow.client_sends(&mut cap, &rest);
    let over = flow.client_sends(&mut cap, &oversize);

    let fields: Vec<&str> = FIELDS
        .iter()
        .copied()
        .chain(["_ws.expert.message", "_ws.col.Info"])
        .collect();
    let lines = tshark_fields(&scratch, &LuaOptions::default(), &cap, &fields, &[]);
    let big_text = text_of(&payload);
    assert_eq!(lines.len(), 6, "{lines:#?}");
    // No labproto fields and no expert info yet; the Info column is TCP's.
    let head_line = &lines[usize::try_from(head).unwrap() - 1];
    assert!(
        head_line.starts_with(&format!("{head}|||||||")),
        "{head_line}"
    );
    assert!(
        head_line.ends_with("[TCP segment of a reassembled PDU]"),
        "{head_line}"
    );
    assert_eq!(
        lines[usize::try_from(tail).unwrap() - 1],
        format!(
            "{tail}|v3,v3,v3|1,1,1|1,2,3|3000,5,0|{big_text},hello,||\
             v3 order=1 size=3000 \"{}…\" ; v3 order=2 size=5 \"hello\" ; v3 order=3 size=0 \"\"",
            &big_text[..40]
        )
    );
    assert_eq!(
        lines[usize::try_from(over).unwrap() - 1],
        format!(
            "{over}|v3|1|4|{oversize_size}|xyz|\
             v3 size {oversize_size} is above the limit of {} bytes: framing stops here|\
             v3 order=4 size={oversize_size} \"xyz\" (size over limit)",
            labproto::DEFAULT_MAX_SIZE
        )
    );
}

#[test]
fn short_first_segment_waits_for_more_and_preference_forces_format() {
    if !tshark_installed() {
        return;
    }
    let scratch = Scratch::new("prefs");
    let hello = v3::Repr {
        version: 1,
        order: 7,
        payload: b"hi there",
    }
    .to_vec()
    .unwrap();
    let mut cap = Capture::new();
    let mut flow = TcpFlow::new(CLIENT_PORT, LAB_PORT);
    flow.handshake(&mut cap);
    // Four bytes cannot tell v3 from anything: the dissector asks for one more segment.
    let short = flow.client_sends(&mut cap, &hello[..4]);
    let rest = flow.client_sends(&mut cap, &hello[4..]);
    let lines = tshark_fields(&scratch, &LuaOptions::default(), &cap, &FIELDS, &[]);
    assert_eq!(
        lines[usize::try_from(short).unwrap() - 1],
        format!("{short}|||||")
    );
    assert_eq!(
        lines[usize::try_from(rest).unwrap() - 1],
        format!("{rest}|v3|1|7|8|hi there")
    );

    // A v2 record read as v3 because the preference says so: the header announces
    // 5 bytes ("hello"), then the NUL padding reads as an empty v3 message with
    // version 0, and the last 6 bytes wait for a header that never comes.
    let record = v2::Repr::new(1, 1, b"hello").to_bytes();
    let mut cap = Capture::new();
    let mut flow = TcpFlow::new(CLIENT_PORT, LAB_PORT);
    flow.handshake(&mut cap);
    let frame = flow.client_sends(&mut cap, &record);
    let forced = ["-o", "labproto.tcp_format:v3"];
    let lines = tshark_fields(&scratch, &LuaOptions::default(), &cap, &FIELDS, &forced);
    assert_eq!(
        lines[usize::try_from(frame).unwrap() - 1],
        format!("{frame}|v3,v3|1,0|1,0|5,0|hello,")
    );
    let auto = tshark_fields(&scratch, &LuaOptions::default(), &cap, &FIELDS, &[]);
    assert_eq!(
        auto[usize::try_from(frame).unwrap() - 1],
        format!("{frame}|v2|1|1|5|hello")
    );
}

/// Expert info for the struct mistakes the dissector can see in one message: a v2
/// message cut to 20 payload bytes, and v2/v3 headers packed little-endian.
#[test]
fn expert_info_for_v2_truncation_and_little_endian_headers() {
    if !tshark_installed() {
        return;
    }
    let scratch = Scratch::new("experts");
    let long = v2::Repr::new(1, 1, b"abcdefghijklmnopqrstuvwxyz").to_bytes();
    let mut le_v2 = v2::Repr::new(1, 2, b"hello").to_bytes();
    le_v2[5..9].copy_from_slice(&5u32.to_le_bytes());
    let mut cap = Capture::new();
    let mut flow = TcpFlow::new(CLIENT_PORT, LAB_PORT);
    flow.handshake(&mut cap);
    let cut = flow.client_sends(&mut cap, &long);
    let le = flow.client_sends(&mut cap, &le_v2);
    let lines = tshark_fields(
        &scratch,
        &LuaOptions::default(),
        &cap,
        &["frame.number", "_ws.expert.message"],
        &["-o", "labproto.tcp_format:v2"],
    );
    let line = |f: u32| lines[usize::try_from(f).unwrap() - 1].clone();
    assert_eq!(
        line(cut),
        format!("{cut}|v2 size 26 but the message carries only 20 payload bytes: the struct's payload field cut the rest")
    );
    assert_eq!(
        line(le),
        format!("{le}|v2 size 83886080 in network byte order is 5 read little-endian: the sender packed with '<' or native order, not '!'")
    );

    // v3, little-endian header: the size is over the limit in network byte order.
    let scratch = Scratch::new("experts-v3");
    let mut le_v3 = v3::Repr {
        version: 1,
        order: 1,
        payload: b"hello",
    }
    .to_vec()
    .unwrap();
    le_v3[5..9].copy_from_slice(&5u32.to_le_bytes());
    let mut cap = Capture::new();
    let mut flow = TcpFlow::new(CLIENT_PORT, LAB_PORT);
    flow.handshake(&mut cap);
    let le = flow.client_sends(&mut cap, &le_v3);
    let lines = tshark_fields(
        &scratch,
        &LuaOptions::default(),
        &cap,
        &["frame.number", "_ws.expert.message"],
        &["-o", "labproto.tcp_format:v3"],
    );
    let got = lines[usize::try_from(le).unwrap() - 1].clone();
    assert!(got.contains("is above the limit"), "{got}");
    assert!(
        got.contains("in network byte order is 5 read little-endian: the sender packed with '<' or native order, not '!'"),
        "{got}"
    );
}
