#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! `--syscalls` with traces that do not fit the capture (garbage, another program's,
//! another day's, another host's, cut, missing): a clear note in the report, the report
//! otherwise unchanged, never a failure. And one that fits, without root: a
//! hand-written trace of the server of a netlab capture.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn capture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/netlab/threaded_server.server.pcap")
}

fn labsniff(args: &[&str], traces: &[&Path]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labsniff"));
    cmd.arg("-r").arg(capture()).args(args).env("NO_COLOR", "1");
    if !traces.is_empty() {
        cmd.arg("--syscalls").args(traces);
    }
    let out = cmd.output().expect("run labsniff");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labsniff-traces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Conversation 1 of the capture (client 10.55.0.2:54350 → 10.55.0.1:5005).
fn conv1() -> Value {
    let (_, json) = labsniff(&["--json"], &[]);
    json.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["type"] == "conversation" && v["conv"] == 1)
        .expect("conversation 1")
}

/// A threads server's trace for conversation 1, `shift` seconds off, with `peer`.
fn server_trace(shift: f64, peer: &str) -> String {
    let c = conv1();
    let ack = c["tcp"]["ack_ts"].as_f64().unwrap() + shift;
    let (ip, port) = peer.split_once(':').unwrap();
    let t = |d: f64| format!("{:.6}", ack + d);
    format!(
        "500 {} socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_TCP) = 3 <0.000010>\n\
         500 {} bind(3, {{sa_family=AF_INET, sin_port=htons(5005), sin_addr=inet_addr(\"0.0.0.0\")}}, 16) = 0 <0.000010>\n\
         500 {} listen(3, 128) = 0 <0.000010>\n\
         500 {} accept4(3, {{sa_family=AF_INET, sin_port=htons({port}), sin_addr=inet_addr(\"{ip}\")}}, [128 => 16], SOCK_CLOEXEC) = 4 <0.000100>\n\
         501 {} recvfrom(4, \"hello\"..., 65536, 0, NULL, NULL) = 23 <0.000010>\n\
         501 {} sendto(4, \"hello\"..., 23, MSG_NOSIGNAL, NULL, 0) = 23 <0.000010>\n",
        t(-1.0),
        t(-0.99),
        t(-0.98),
        t(0.0004),
        t(0.01),
        t(0.011),
    )
}

/// Every line of `base` appears in `with`, in order: the traces only added lines.
fn only_added(base: &str, with: &str) {
    let mut rest = with.lines();
    for line in base.lines() {
        assert!(
            rest.any(|l| l == line),
            "line lost or changed: {line:?}\n--- with traces:\n{with}"
        );
    }
}

#[test]
fn bad_traces_give_a_note_and_the_report_without_the_join() {
    let (status, base) = labsniff(&[], &[]);
    assert_eq!(status, 0);
    let garbage = write("garbage.trace", "#!/bin/sh\necho hello\n\u{0}\u{1}binary\n");
    let other_program = write(
        "other.trace",
        "900 1796115030.000000 openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3 <0.000010>\n\
         900 1796115030.000100 read(3, \"root:x:0:0\"..., 4096) = 1200 <0.000010>\n\
         900 1796115030.000200 close(3) = 0 <0.000010>\n",
    );
    let other_day = write("day.trace", &server_trace(86_400.0, "10.55.0.2:54350"));
    let other_host = write("host.trace", &server_trace(0.0, "192.0.2.7:40000"));
    let missing = Path::new("/nonexistent/labsniff.trace");
    let cases: [(&Path, &str); 5] = [
        (&garbage, "no system calls could be read"),
        (&other_program, "holds no TCP socket with a known address"),
        (&other_day, "had the capture's addresses but at other times"),
        (&other_host, "none of its 1 TCP sockets has the addresses"),
        (missing, "could not be read to the end (cannot open"),
    ];
    for (trace, note) in cases {
        let (status, report) = labsniff(&[], &[trace]);
        assert_eq!(status, 0, "{}", trace.display());
        let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(note),
            "{note:?} missing for {}:\n{report}",
            trace.display()
        );
        assert!(!report.contains("System calls (from"), "{report}");
        only_added(&base, &report);
        // JSON: a trace line saying the same, the summary still last.
        let (_, json) = labsniff(&["--json"], &[trace]);
        let lines: Vec<Value> = json
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.last().unwrap()["type"], "summary");
        let t = lines
            .iter()
            .find(|v| v["type"] == "trace")
            .expect("trace line");
        assert_eq!(t["joined"], 0, "{t}");
        assert!(!lines.iter().any(|v| v["type"] == "syscall"));
    }
}

#[test]
fn a_fitting_trace_cut_in_its_last_line_still_joins() {
    let mut text = server_trace(0.0, "10.55.0.2:54350");
    text.push_str("501 1796115031.000000 recvfrom(4, \"the rest of the li");
    let cut = write("cut.trace", &text);
    let (status, report) = labsniff(&[], &[&cut]);
    assert_eq!(status, 0);
    let flat = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("System calls (from the traces)"), "{report}");
    assert!(
        flat.contains("thread 500 called accept4() on the listening fd 3, which returned fd 4"),
        "{report}"
    );
    assert!(
        flat.contains("500 µs after the handshake's last ACK"),
        "{report}"
    );
    assert!(
        flat.contains("1 line not strace output (first: line 7, arguments cut off"),
        "{report}"
    );
    // Only the server was traced: the guess about send() stays, said as a guess.
    assert!(flat.contains("not how many send() calls wrote them") || !flat.contains("segments ("));
    let (_, json) = labsniff(&["--json"], &[&cut]);
    let calls: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "syscall")
        .collect();
    let ops: Vec<&str> = calls.iter().map(|c| c["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["accept", "recv", "send"]);
    assert_eq!(calls[0]["conv"], 1);
    assert_eq!(calls[0]["side"], "server");
    assert_eq!(calls[0]["tid"], 500);
    assert_eq!(calls[1]["offset"], 0);
    assert_eq!(calls[2]["ret"], 23);
}

#[test]
fn time_of_day_traces_need_their_date() {
    // The same trace in -tt form (UTC time of day) with --trace-date joins the same.
    let text = server_trace(0.0, "10.55.0.2:54350");
    let tt: String = text
        .lines()
        .map(|l| {
            let (tid, rest) = l.split_once(' ').unwrap();
            let (ts, call) = rest.split_once(' ').unwrap();
            let ts: f64 = ts.parse().unwrap();
            let day = ts.rem_euclid(86_400.0);
            let (h, m, s) = (
                (day / 3600.0) as u64,
                (day % 3600.0 / 60.0) as u64,
                day % 60.0,
            );
            format!("{tid} {h:02}:{m:02}:{s:09.6} {call}\n")
        })
        .collect();
    let path = write("tt.trace", &tt);
    let c = conv1();
    let days = (c["start_ts"].as_f64().unwrap() / 86_400.0) as i64;
    // The date of that day (civil from days).
    let date = Command::new("date")
        .args(["-u", "-d", &format!("@{}", days * 86_400), "+%Y-%m-%d"])
        .output()
        .unwrap();
    let date = String::from_utf8_lossy(&date.stdout).trim().to_string();
    let (status, report) = labsniff(&["--trace-date", &date], &[&path]);
    assert_eq!(status, 0);
    assert!(
        report.contains("System calls (from the traces)"),
        "{report}"
    );
    let (status, _) = labsniff(&["--trace-date", "not-a-date"], &[&path]);
    assert_eq!(status, 2);
}

#[test]
fn flow_graph_gets_application_lanes() {
    let trace = write("lanes.trace", &server_trace(0.0, "10.55.0.2:54350"));
    let (status, base) = labsniff(&["--view", "flow"], &[]);
    assert_eq!(status, 0);
    let (status, flow) = labsniff(&["--view", "flow"], &[&trace]);
    assert_eq!(status, 0);
    // The server's calls in its (right) lane, the packets unchanged around them.
    assert!(flow.contains("accept4() → fd 4 t500 ·|"), "{flow}");
    assert!(flow.contains("recvfrom() 23 B t501 ·|"), "{flow}");
    assert!(flow.contains("sendto() 23 B t501 ·|"), "{flow}");
    only_added(&base, &flow);
    // The accept returned after the handshake's ACK: its row comes after the ACK's.
    let ack = flow.find("-- ACK --").unwrap();
    let accept = flow.find("accept4() → fd 4").unwrap();
    assert!(accept > ack, "{flow}");
    // Conversation filter too.
    let (_, one) = labsniff(&["--view", "flow", "--conv", "1"], &[&trace]);
    assert!(one.contains("accept4() → fd 4 t500 ·|"), "{one}");
    // And the SVG: the calls in the server's lane; without traces the SVG is the
    // ladder of the HTML page (since --svg draws it), which has every frame the flow
    // graph's arrows stand for.
    let svg = write("lanes.svg", "");
    let plain = write("plain.svg", "");
    let svg_arg = svg.display().to_string();
    let plain_arg = plain.display().to_string();
    labsniff(&["--view", "flow", "--svg", &svg_arg], &[&trace]);
    labsniff(&["--view", "flow", "--svg", &plain_arg], &[]);
    let (svg, plain) = (
        std::fs::read_to_string(&svg).unwrap(),
        std::fs::read_to_string(&plain).unwrap(),
    );
    assert!(svg.contains(r#"<g class="call server">"#), "{svg}");
    assert!(svg.contains("accept4() → fd 4 t500"), "{svg}");
    let frames: Vec<&str> = svg
        .split(r#"<g class="arrow"#)
        .skip(1)
        .filter_map(|a| a.split("data-frame=\"").nth(1)?.split('"').next())
        .collect();
    assert!(frames.len() > 5, "{svg}");
    assert!(plain.contains(r#"data-graph="ladder""#), "{plain}");
    for f in frames {
        assert!(
            plain.contains(&format!(r#" data-frame="{f}""#)),
            "frame {f}: {plain}"
        );
    }
    assert!(!plain.contains(r#"class="call"#));
}
