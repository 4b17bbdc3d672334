//! Following sockets through hand-written traces and joining them to hand-made records.

use super::*;
use crate::event::{ConversationRecord, TcpDetails, TransportKind};
use crate::syscalls::facts;

const T0: f64 = 1_796_116_210.0;

fn record(conv: u64, client: &str, syn: f64, ack: f64, end: f64) -> ConversationRecord {
    ConversationRecord {
        conv,
        transport: TransportKind::Tcp,
        client: client.parse().expect("a test address"),
        server: std::net::SocketAddr::from(([127, 0, 0, 1], 5005)),
        proto: Some(labproto::Proto::V3),
        state: crate::event::ZeekState::Sf,
        bytes_c2s: 100_009,
        bytes_s2c: 100_009,
        messages_c2s: 1,
        messages_s2c: 1,
        gaps: Vec::new(),
        first_frame: 1,
        last_frame: 10,
        start_ts: T0 + syn,
        end_ts: T0 + end,
        frames_c2s: 1,
        frames_s2c: 1,
        retransmissions: 0,
        out_of_order: 0,
        tcp: Some(TcpDetails {
            syn_frame: Some(1),
            syn_ts: Some(T0 + syn),
            ack_frame: Some(3),
            ack_ts: Some(T0 + ack),
            ..TcpDetails::default()
        }),
        tcp_stream: Some(conv - 1),
        first_payload_c2s: None,
        last_payload_c2s: None,
        first_payload_s2c: None,
        last_payload_s2c: None,
    }
}

/// A threads server without -yy: addresses from bind and accept4 only.
const THREADS: &str = r#"100 1796116210.000000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3 <0.000010>
100 1796116210.000020 bind(3, {sa_family=AF_INET, sin_port=htons(5005), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000010>
100 1796116210.000040 listen(3, 128) = 0 <0.000010>
100 1796116210.100000 accept4(3, {sa_family=AF_INET, sin_port=htons(41000), sin_addr=inet_addr("127.0.0.1")}, [128 => 16], SOCK_CLOEXEC) = 4 <0.099000>
101 1796116210.200000 recvfrom(4, "\1\0\0\0\1\0\1\206\240The"..., 9, 0, NULL, NULL) = 9 <0.000010>
101 1796116210.200100 recvfrom(4, "The quick"..., 100000, 0, NULL, NULL) = 65483 <0.000010>
100 1796116210.200150 accept4(3,  <unfinished ...>
101 1796116210.200200 recvfrom(4, "lazy dog"..., 34517, 0, NULL, NULL) = 34517 <0.000010>
101 1796116210.200300 sendto(4, "\1\0\0\0\1"..., 100009, MSG_NOSIGNAL, NULL, 0) = 100009 <0.000040>
100 1796116210.300000 <... accept4 resumed>{sa_family=AF_INET, sin_port=htons(41001), sin_addr=inet_addr("127.0.0.1")}, [128 => 16], SOCK_CLOEXEC) = 5 <0.099850>
102 1796116210.300100 recvfrom(5, "\1\0"..., 9, 0, NULL, NULL) = 9 <0.000010>
101 1796116210.400000 recvfrom(4, "", 9, 0, NULL, NULL) = 0 <0.000010>
101 1796116210.400100 close(4) = 0 <0.000010>
102 1796116210.400200 close(5) = 0 <0.000010>
100 1796116210.500000 +++ killed by SIGINT +++
"#;

fn input(name: &str, text: &'static str) -> TraceInput<&'static [u8]> {
    TraceInput {
        name: name.to_string(),
        input: text.as_bytes(),
        clock: Clock::Epoch,
    }
}

#[test]
fn threads_server_sockets_join_their_conversations() {
    let a = record(1, "127.0.0.1:41000", 0.099, 0.199, 0.45);
    let b = record(2, "127.0.0.1:41001", 0.250, 0.2995, 0.45);
    let joined = join(&[&a, &b], vec![input("server.trace", THREADS)]);
    let t = &joined.traces[0];
    assert_eq!(t.read.malformed, 0, "{:?}", t.read.first_malformed);
    assert_eq!((t.sockets, t.joined), (2, 2));
    assert_eq!(t.threads, vec![100, 101, 102]);
    let s1 = &joined.sockets[&1][0];
    assert_eq!((s1.side, s1.fd), (Side::Server, 4));
    let f = facts::conversation(&a, &[], &joined.sockets[&1]);
    let server = f.side(Side::Server).unwrap();
    assert_eq!(server.threads, vec![100, 101]);
    let accept = server.accept.as_ref().unwrap();
    assert_eq!(accept.tid, Some(100));
    // accept4 returned at .199000, the ACK came at .199000: 0 µs.
    assert_eq!(accept.after_ack, Some(0));
    assert_eq!(server.recvs.len(), 4);
    assert_eq!(server.recvs[2].offset, 9 + 65483);
    assert_eq!(server.sends[0].moved, 100_009);
    // The unfinished accept4 resumed: conversation 2 got its start time.
    let f2 = facts::conversation(&b, &[], &joined.sockets[&2]);
    let acc2 = f2.side(Side::Server).unwrap().accept.clone().unwrap();
    assert_eq!(acc2.end, 1_796_116_210_300_000);
    let model = facts::server_model(&[f, f2]);
    assert_eq!(model.threads.len(), 3);
}

#[test]
fn another_days_trace_joins_nothing_and_says_so() {
    // Same addresses, a day later.
    let a = record(1, "127.0.0.1:41000", 86_400.099, 86_400.199, 86_400.45);
    let joined = join(&[&a], vec![input("server.trace", THREADS)]);
    let t = &joined.traces[0];
    assert_eq!((t.sockets, t.joined, t.other_time), (2, 0, 1));
    assert!(joined.sockets.is_empty());
}

#[test]
fn garbage_and_cut_traces_are_counted_not_fatal() {
    let a = record(1, "127.0.0.1:41000", 0.099, 0.199, 0.45);
    let cut = &THREADS[..THREADS.len() / 2];
    let garbage: &[u8] = b"\x00\x01\xffnot strace\n#!/bin/sh\necho hi\n";
    let joined = join(
        &[&a],
        vec![
            TraceInput {
                name: "garbage".into(),
                input: garbage,
                clock: Clock::Epoch,
            },
            TraceInput {
                name: "cut".into(),
                input: cut.as_bytes(),
                clock: Clock::Epoch,
            },
        ],
    );
    assert_eq!(joined.traces[0].read.malformed, 3);
    assert_eq!(joined.traces[0].read.calls, 0);
    assert!(joined.traces[1].read.calls > 0);
}

#[test]
fn a_huge_line_is_cut_without_holding_it() {
    let mut text = String::from("1 1.000000 recvfrom(4, \"");
    text.push_str(&"a".repeat(read::LINE_MAX * 3));
    text.push_str("\", 9, 0, NULL, NULL) = 9\n1 1.000001 close(4) = 0\n");
    let joined = join(
        &[],
        vec![TraceInput {
            name: "huge".into(),
            input: text.as_bytes(),
            clock: Clock::Epoch,
        }],
    );
    let r = &joined.traces[0].read;
    assert_eq!((r.lines, r.malformed, r.calls), (2, 1, 1));
}
