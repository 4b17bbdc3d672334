//! Threads and readiness calls of hand-written server traces: a thread per client, a
//! selector (epoll and select), and one without thread ids.

use super::*;
use crate::event::{ConversationRecord, TcpDetails, TransportKind};
use crate::syscalls::{join, Clock, TraceInput};

const T0: f64 = 1_796_116_210.0;

fn record(conv: u64, port: u16, ack: f64) -> ConversationRecord {
    ConversationRecord {
        conv,
        transport: TransportKind::Tcp,
        client: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        server: std::net::SocketAddr::from(([127, 0, 0, 1], 5005)),
        proto: Some(labproto::Proto::Text),
        state: crate::event::ZeekState::Sf,
        bytes_c2s: 5,
        bytes_s2c: 5,
        messages_c2s: 1,
        messages_s2c: 1,
        gaps: Vec::new(),
        first_frame: 1,
        last_frame: 10,
        start_ts: T0 + ack - 0.001,
        end_ts: T0 + 0.9,
        frames_c2s: 1,
        frames_s2c: 1,
        retransmissions: 0,
        out_of_order: 0,
        tcp: Some(TcpDetails {
            syn_frame: Some(1),
            syn_ts: Some(T0 + ack - 0.001),
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

fn threads_of(trace: &'static str) -> ServerThreads {
    let a = record(1, 41000, 0.1);
    let b = record(2, 41001, 0.3);
    let joined = join(
        &[&a, &b],
        vec![TraceInput {
            name: "server.strace".to_string(),
            input: trace.as_bytes(),
            clock: Clock::Epoch,
        }],
    );
    assert_eq!(joined.traces[0].joined, 2, "{:?}", joined.traces[0]);
    server_threads(&joined, &[])
}

/// serverTCP.py: the main thread accepts and clones a thread per client.
const THREADS: &str = r#"100 1796116210.000000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3 <0.000010>
100 1796116210.000020 bind(3, {sa_family=AF_INET, sin_port=htons(5005), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000010>
100 1796116210.100000 accept4(3, {sa_family=AF_INET, sin_port=htons(41000), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 4 <0.000010>
100 1796116210.100100 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff00, tls=0x7f} => {parent_tid=[101]}, 88) = 101 <0.000050>
101 1796116210.200000 recvfrom(4, "hello", 1024, 0, NULL, NULL) = 5 <0.000010>
101 1796116210.200100 sendto(4, "hello", 5, 0, NULL, 0) = 5 <0.000010>
100 1796116210.300000 accept4(3, {sa_family=AF_INET, sin_port=htons(41001), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 5 <0.000010>
100 1796116210.300100 clone3({flags=CLONE_VM|CLONE_THREAD, child_tid=0x7f}, 88) = 102 <0.000050>
102 1796116210.400000 recvfrom(5, "hello", 1024, 0, NULL, NULL) = 5 <0.000010>
102 1796116210.400100 sendto(5, "hello", 5, 0, NULL, 0) = 5 <0.000010>
101 1796116210.500000 recvfrom(4, "", 1024, 0, NULL, NULL) = 0 <0.000010>
102 1796116210.500100 recvfrom(5, "", 1024, 0, NULL, NULL) = 0 <0.000010>
"#;

/// serverTCPsel.py: one thread, epoll data = fd.
const SELECTOR: &str = r#"200 1796116210.000000 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3 <0.000010>
200 1796116210.000020 bind(3, {sa_family=AF_INET, sin_port=htons(5005), sin_addr=inet_addr("0.0.0.0")}, 16) = 0 <0.000010>
200 1796116210.000040 epoll_create1(EPOLL_CLOEXEC) = 7 <0.000010>
200 1796116210.000050 epoll_ctl(7, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data={u32=3, u64=3}}) = 0 <0.000010>
200 1796116210.100000 accept4(3, {sa_family=AF_INET, sin_port=htons(41000), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 4 <0.000010>
200 1796116210.100100 epoll_ctl(7, EPOLL_CTL_ADD, 4, {events=EPOLLIN, data={u32=4, u64=4}}) = 0 <0.000010>
200 1796116210.150000 epoll_wait(7, [{events=EPOLLIN, data={u32=4, u64=4}}], 2, -1) = 1 <0.050000>
200 1796116210.200100 recvfrom(4, "hello", 1024, 0, NULL, NULL) = 5 <0.000010>
200 1796116210.200200 sendto(4, "hello", 5, 0, NULL, 0) = 5 <0.000010>
200 1796116210.300000 accept4(3, {sa_family=AF_INET, sin_port=htons(41001), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 5 <0.000010>
200 1796116210.300100 epoll_ctl(7, EPOLL_CTL_ADD, 5, {events=EPOLLIN, data={u32=5, u64=5}}) = 0 <0.000010>
200 1796116210.350000 epoll_wait(7, [{events=EPOLLIN, data={u32=4, u64=4}}, {events=EPOLLIN, data={u32=5, u64=5}}], 3, -1) = 2 <0.050000>
200 1796116210.400100 recvfrom(4, "", 1024, 0, NULL, NULL) = 0 <0.000010>
200 1796116210.400200 recvfrom(5, "hello", 1024, 0, NULL, NULL) = 5 <0.000010>
200 1796116210.400300 sendto(5, "hello", 5, 0, NULL, 0) = 5 <0.000010>
"#;

#[test]
fn a_thread_per_client_each_thread_its_socket() {
    let t = threads_of(THREADS);
    assert_eq!(t.io_threads(), vec![(101, vec![1]), (102, vec![2])]);
    assert!(t.ready.is_empty());
    let s1 = t.socket(1).unwrap();
    assert_eq!((s1.fd, s1.accept.unwrap().tid), (4, Some(100)));
    assert_eq!(s1.io[0].calls, 3);
    let clones: Vec<(Option<u32>, u32, bool)> = t
        .clones
        .iter()
        .map(|(_, c)| (c.tid, c.child, c.thread))
        .collect();
    assert_eq!(clones, vec![(Some(100), 101, true), (Some(100), 102, true)]);
}

#[test]
fn a_selector_one_thread_and_the_fds_epoll_returned() {
    let t = threads_of(SELECTOR);
    assert_eq!(t.io_threads(), vec![(200, vec![1, 2])]);
    assert_eq!(t.ready_threads(), vec![(200, vec![1, 2], 2)]);
    assert_eq!(t.ready.len(), 2);
    let both = &t.ready[1];
    assert_eq!((both.call, both.end), ("epoll_wait", 1_796_116_210_400_000));
    let fds: Vec<(u64, i64)> = both.ready.iter().map(|r| (r.conv, r.fd)).collect();
    assert_eq!(fds, vec![(1, 4), (2, 5)]);
    assert!(t.clones.is_empty());
}

#[test]
fn select_returns_name_their_fds_and_no_tid_is_counted() {
    let trace: &'static str = concat!(
        "1796116210.000020 bind(3, {sa_family=AF_INET, sin_port=htons(5005), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0 <0.000010>\n",
        "1796116210.100000 accept(3, {sa_family=AF_INET, sin_port=htons(41000), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 4 <0.000010>\n",
        "1796116210.300000 accept(3, {sa_family=AF_INET, sin_port=htons(41001), sin_addr=inet_addr(\"127.0.0.1\")}, [16]) = 5 <0.000010>\n",
        "1796116210.350000 select(6, [3 4 5], NULL, NULL, NULL) = 2 (in [4 5]) <0.050000>\n",
        "1796116210.400100 recvfrom(4, \"hello\", 1024, 0, NULL, NULL) = 5 <0.000010>\n",
        "1796116210.400200 recvfrom(5, \"hello\", 1024, 0, NULL, NULL) = 5 <0.000010>\n",
    );
    let t = threads_of(trace);
    assert_eq!(t.ready.len(), 1);
    assert_eq!((t.ready[0].tid, t.ready[0].call), (None, "select"));
    assert_eq!(t.ready[0].ready.len(), 2);
    // Without -f there are no thread ids: nothing to say about threads.
    assert!(t.io_threads().is_empty());
    assert!(t.ready_threads().is_empty());
    assert_eq!(t.socket(2).unwrap().io_without_tid, 1);
}
