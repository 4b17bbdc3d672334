use super::*;

const E: Clock = Clock::Epoch;

fn call_of(text: &str) -> Call<'_> {
    match line(text, E) {
        Ok(Record::Call(c)) => c,
        other => panic!("not a call: {other:?}"),
    }
}

#[test]
fn recvfrom_with_yy_and_duration() {
    let c = call_of(
        r#"9567  1796116210.689510 recvfrom(5<TCP:[127.0.0.1:5006->127.0.0.1:37934]>, "\1\0\0\0\1\0\0\0\24The quick, brown) fox ", 65536, 0, NULL, NULL) = 29 <0.000015>"#,
    );
    assert_eq!(c.tid, Some(9567));
    assert_eq!(c.ts, 1_796_116_210_689_510);
    assert_eq!(c.name, "recvfrom");
    assert_eq!(c.args.len(), 6, "{:?}", c.args);
    assert_eq!(c.args[2], "65536");
    assert_eq!(c.ret, Some(29));
    assert_eq!(c.dur, Some(15));
    let (fd, tag) = fd(c.args[0]).unwrap();
    assert_eq!(fd, 5);
    let tag = sock_tag(tag.unwrap()).unwrap();
    assert_eq!(tag.local, Some("127.0.0.1:5006".parse().unwrap()));
    assert_eq!(tag.remote, Some("127.0.0.1:37934".parse().unwrap()));
}

#[test]
fn accept4_returns_an_annotated_fd() {
    let c = call_of(
        r#"9567  1796116210.688749 accept4(4<TCP:[127.0.0.1:5006]>, {sa_family=AF_INET, sin_port=htons(37934), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 5<TCP:[127.0.0.1:5006->127.0.0.1:37934]> <0.000020>"#,
    );
    assert_eq!(c.ret, Some(5));
    assert_eq!(c.ret_tag, Some("TCP:[127.0.0.1:5006->127.0.0.1:37934]"));
    assert_eq!(
        sockaddr(c.args[1]),
        Some("127.0.0.1:37934".parse().unwrap())
    );
    assert_eq!(c.dur, Some(20));
}

#[test]
fn connect_in_progress_and_poll_ready_set() {
    let c = call_of(
        r#"10132 1796116210.683777 connect(3<TCP:[234859]>, {sa_family=AF_INET, sin_port=htons(5006), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress) <0.000091>"#,
    );
    assert_eq!(c.ret, Some(-1));
    assert_eq!(c.errno, Some("EINPROGRESS"));
    assert_eq!(sock_tag("TCP:[234859]").unwrap().local, None);
    let p = call_of(
        r#"10132 1796116210.684331 poll([{fd=3<TCP:[127.0.0.1:37934->127.0.0.1:5006]>, events=POLLOUT|POLLERR}], 1, 30000) = 1 ([{fd=3, revents=POLLOUT}]) <0.000012>"#,
    );
    assert_eq!(p.extra, Some("([{fd=3, revents=POLLOUT}])"));
    assert_eq!(fields(p.extra.unwrap(), "fd", 8), vec![3]);
}

#[test]
fn ipv6_sockaddr_and_tag() {
    let a = r#"{sa_family=AF_INET6, sin6_port=htons(5005), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}"#;
    assert_eq!(sockaddr(a), Some("[::1]:5005".parse().unwrap()));
    let t = sock_tag("TCPv6:[[::1]:5005->[::1]:41000]").unwrap();
    assert_eq!(t.remote, Some("[::1]:41000".parse().unwrap()));
}

#[test]
fn unfinished_resumed_signal_exit() {
    let u = line(
        "[pid  4122] 1796116210.690166 epoll_wait(3<anon_inode:[eventpoll]>,  <unfinished ...>",
        E,
    )
    .unwrap();
    let Record::Unfinished { tid, head, .. } = u else {
        panic!("{u:?}")
    };
    assert_eq!(tid, Some(4122));
    let r = line(
        "4122  1796116210.690200 <... epoll_wait resumed>[{events=EPOLLIN, data={u32=5, u64=5}}], 2, 1000) = 1 <0.000034>",
        E,
    )
    .unwrap();
    let Record::Resumed { name, tail, .. } = r else {
        panic!("{r:?}")
    };
    assert_eq!(name, "epoll_wait");
    let joined = format!("{head}{tail}");
    let c = call(tid, 1, &joined).unwrap();
    assert_eq!(c.args.len(), 4, "{:?}", c.args);
    assert_eq!(fields(c.args[1], "u64", 8), vec![5]);
    assert!(matches!(
        line("9567  1796116210.698124 +++ exited with 0 +++", E),
        Ok(Record::Exit { .. })
    ));
    assert!(matches!(
        line(
            "9567  1796116210.698124 --- SIGINT {si_signo=SIGINT, si_code=SI_USER} ---",
            E
        ),
        Ok(Record::Signal { .. })
    ));
}

#[test]
fn time_of_day_with_a_date() {
    // 2026-12-01 00:00:00 UTC
    let midnight = 1_796_083_200_000_000;
    let c = match line("4121 12:00:00.000101 close(5) = 0", Clock::Day(midnight)).unwrap() {
        Record::Call(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(c.ts, midnight + 12 * 3_600_000_000 + 101);
    assert_eq!(c.dur, None);
    // A -tt line read as -ttt is not strace output.
    assert_eq!(
        line("4121 12:00:00.000101 close(5) = 0", E),
        Err(ParseError::NoTimestamp)
    );
}

#[test]
fn malformed_lines_are_errors_not_panics() {
    let bad = [
        "",
        "hello world",
        "9567 1796116210.689510",
        "9567 1796116210.689510 recvfrom(5, \"abc",
        "9567 1796116210.689510 recvfrom(5, [1, 2) = 3",
        "9567 1796116210.689510 close(5)",
        "9567 1796116210.689510 close(5) = x",
        "9567 1796116210.689510 ()= 1",
        "9567 99999999999999999999.0 close(5) = 0",
        "9567 1.1234567890 close(5) = 0",
        "9567 1796116210.689510 <... close resumed",
        "[pid 12",
        "12:00:00.0 close(5) = 0",
        "\u{fffd}\u{fffd} 1.0 \u{fffd}(",
    ];
    for b in bad {
        assert!(line(b, E).is_err(), "{b:?} parsed as {:?}", line(b, E));
    }
}

#[test]
fn question_mark_return_and_hex() {
    let c = call_of("77 1.000001 epoll_wait(3, [], 1, -1) = ? <unavailable>");
    assert_eq!(c.ret, None);
    assert_eq!(integer("0x10"), Some(16));
}

#[test]
fn dates_to_midnight() {
    assert_eq!(midnight("1970-01-01"), Some(0));
    assert_eq!(midnight("2026-12-01"), Some(1_796_083_200_000_000));
    assert_eq!(midnight("2026-13-01"), None);
    assert_eq!(midnight("yesterday"), None);
}

proptest::proptest! {
    /// Any line, however cut or garbled, parses or fails; it never panics.
    #[test]
    fn any_line_parses_or_fails(line_text in "\\PC{0,200}") {
        let _ = line(&line_text, E);
        let _ = line(&line_text, Clock::Day(0));
    }

    /// A real line cut anywhere (a trace truncated mid-write) never panics either.
    #[test]
    fn real_lines_cut_anywhere(cut in 0usize..400) {
        let full = r#"[pid  9567] 1796116210.688749 accept4(4<TCP:[127.0.0.1:5006]>, {sa_family=AF_INET, sin_port=htons(37934), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC) = 5<TCP:[127.0.0.1:5006->127.0.0.1:37934]> <0.000020>"#;
        let mut at = cut.min(full.len());
        while !full.is_char_boundary(at) {
            at -= 1;
        }
        let _ = line(&full[..at], E);
    }
}

#[test]
fn time_of_day_or_epoch_from_one_line() {
    assert!(time_of_day("1234  12:00:00.000101 read(3, \"\", 1) = 0"));
    assert!(time_of_day(
        "[pid  1234] 12:00:00.000101 read(3, \"\", 1) = 0"
    ));
    assert!(time_of_day("12:00:00.000101 read(3, \"\", 1) = 0"));
    assert!(!time_of_day("1234  1796116210.689510 read(3, \"\", 1) = 0"));
    assert!(!time_of_day("1796116210.689510 read(3, \"\", 1) = 0"));
    assert!(!time_of_day("this is not a trace: 12:00"));
}
