//! Concurrency proof and one-at-a-time recognition on hand-made records.

use super::{concurrency, Concurrency};
use crate::event::{ConversationRecord, FrameAt, TcpDetails, TransportKind};

/// What one connection did, by frame number.
#[derive(Default, Clone, Copy)]
struct Script {
    conv: u64,
    syn: u64,
    ack: u64,
    request: Option<u64>,
    first_answer: Option<u64>,
    last_answer: Option<u64>,
    fin_c2s: Option<u64>,
    fin_s2c: Option<u64>,
    rst: Option<u64>,
    last: u64,
}

fn at(frame: u64) -> FrameAt {
    FrameAt {
        frame,
        ts: frame as f64 / 1000.0,
    }
}

fn record(s: Script) -> ConversationRecord {
    let tcp = TcpDetails {
        syn_frame: Some(s.syn),
        syn_ack_frame: Some(s.syn + 1),
        ack_frame: Some(s.ack),
        fin_c2s_frame: s.fin_c2s,
        fin_s2c_frame: s.fin_s2c,
        rst_frame: s.rst,
        ..TcpDetails::default()
    };
    ConversationRecord {
        conv: s.conv,
        transport: TransportKind::Tcp,
        client: std::net::SocketAddr::from(([10, 0, 0, 2], 40000 + s.conv as u16)),
        server: std::net::SocketAddr::from(([10, 0, 0, 1], 5005)),
        proto: Some(labproto::Proto::Text),
        state: crate::event::ZeekState::Sf,
        bytes_c2s: 5,
        bytes_s2c: 5,
        messages_c2s: 1,
        messages_s2c: 1,
        gaps: Vec::new(),
        first_frame: s.syn,
        last_frame: s.last,
        start_ts: s.syn as f64 / 1000.0,
        end_ts: s.last as f64 / 1000.0,
        frames_c2s: 1,
        frames_s2c: 1,
        retransmissions: 0,
        out_of_order: 0,
        tcp: Some(tcp),
        tcp_stream: Some(s.conv - 1),
        first_payload_c2s: s.request.map(at),
        last_payload_c2s: s.request.map(at),
        first_payload_s2c: s.first_answer.map(at),
        last_payload_s2c: s.last_answer.or(s.first_answer).map(at),
    }
}

fn judge(scripts: &[Script]) -> Option<Concurrency> {
    let records: Vec<ConversationRecord> = scripts.iter().copied().map(record).collect();
    let refs: Vec<&ConversationRecord> = records.iter().collect();
    concurrency(&refs)
}

/// A: handshake 1-3, request 4, echo 6, FIN 10. B: handshake 7-9 (while A is open),
/// request 11... but in `iterative` B asks at 8 and is answered at 14, after A's FIN.
#[test]
fn a_second_client_answered_only_after_the_first_ended_is_one_at_a_time() {
    let a = Script {
        conv: 1,
        syn: 1,
        ack: 3,
        request: Some(4),
        first_answer: Some(6),
        fin_c2s: Some(12),
        fin_s2c: Some(14),
        last: 15,
        ..Script::default()
    };
    let b = Script {
        conv: 2,
        syn: 7,
        ack: 9,
        request: Some(10),
        first_answer: Some(16),
        fin_c2s: Some(18),
        fin_s2c: Some(20),
        last: 21,
        ..Script::default()
    };
    assert_eq!(
        judge(&[a, b]),
        Some(Concurrency::Iterative {
            earlier: 1,
            earlier_end: 12,
            later: 2,
            later_ack: 9,
            later_request: 10,
            later_answer: 16,
        })
    );
}

#[test]
fn an_answer_while_another_answered_connection_is_open_proves_concurrency() {
    let a = Script {
        conv: 1,
        syn: 1,
        ack: 3,
        request: Some(4),
        first_answer: Some(6),
        last_answer: Some(14),
        fin_c2s: Some(16),
        fin_s2c: Some(18),
        last: 19,
        ..Script::default()
    };
    let b = Script {
        conv: 2,
        syn: 7,
        ack: 9,
        request: Some(10),
        first_answer: Some(11),
        fin_c2s: Some(20),
        fin_s2c: Some(22),
        last: 23,
        ..Script::default()
    };
    assert_eq!(
        judge(&[a, b]),
        Some(Concurrency::Proven {
            earlier: 1,
            earlier_answer: 6,
            later: 2,
            later_answer: 11,
            earlier_end: Some(16),
        })
    );
}

#[test]
fn overlap_alone_proves_nothing() {
    // B connects while A is open but sends nothing until A has ended.
    let a = Script {
        conv: 1,
        syn: 1,
        ack: 3,
        request: Some(4),
        first_answer: Some(5),
        fin_c2s: Some(9),
        fin_s2c: Some(10),
        last: 11,
        ..Script::default()
    };
    let b = Script {
        conv: 2,
        syn: 6,
        ack: 8,
        request: Some(12),
        first_answer: Some(13),
        fin_c2s: Some(14),
        fin_s2c: Some(15),
        last: 16,
        ..Script::default()
    };
    assert_eq!(
        judge(&[a, b]),
        Some(Concurrency::Unknown {
            connections: 2,
            overlapped: true
        })
    );
}

#[test]
fn one_after_the_other_cannot_tell() {
    let a = Script {
        conv: 1,
        syn: 1,
        ack: 3,
        request: Some(4),
        first_answer: Some(5),
        fin_c2s: Some(6),
        fin_s2c: Some(7),
        last: 8,
        ..Script::default()
    };
    let b = Script {
        conv: 2,
        syn: 9,
        ack: 11,
        request: Some(12),
        first_answer: Some(13),
        fin_c2s: Some(14),
        fin_s2c: Some(15),
        last: 16,
        ..Script::default()
    };
    assert_eq!(
        judge(&[a, b]),
        Some(Concurrency::Unknown {
            connections: 2,
            overlapped: false
        })
    );
    assert_eq!(judge(&[a]), None);
}

#[test]
fn an_answer_after_the_earlier_connection_began_closing_proves_nothing() {
    // The server answers B only after A's client sent its FIN: an iterative server
    // that read EOF on A and moved on could do that.
    let a = Script {
        conv: 1,
        syn: 1,
        ack: 3,
        request: Some(4),
        first_answer: Some(5),
        fin_c2s: Some(8),
        last: 12,
        ..Script::default()
    };
    let b = Script {
        conv: 2,
        syn: 6,
        ack: 7,
        request: Some(9),
        first_answer: Some(10),
        fin_c2s: Some(13),
        last: 14,
        ..Script::default()
    };
    assert!(!matches!(judge(&[a, b]), Some(Concurrency::Proven { .. })));
}

#[test]
fn a_reset_ends_a_connection_too() {
    let a = Script {
        conv: 1,
        syn: 1,
        ack: 3,
        request: Some(4),
        first_answer: Some(6),
        rst: Some(11),
        last: 11,
        ..Script::default()
    };
    let b = Script {
        conv: 2,
        syn: 7,
        ack: 9,
        request: Some(10),
        first_answer: Some(12),
        last: 13,
        ..Script::default()
    };
    assert!(matches!(
        judge(&[a, b]),
        Some(Concurrency::Iterative {
            earlier_end: 11,
            ..
        })
    ));
}
