#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
//! A capture without lab traffic says which port was looked for, which ports were
//! there (the summary's `other_ports`), and which `--port` to try.

mod common;

use common::*;
use labfixtures::{lab, Capture, Dir, FileFormat, LinkType};
use serde_json::json;

fn web_and_dns() -> Capture {
    let mut cap = Capture::new(LinkType::Ethernet);
    for i in 0..12u16 {
        let mut flow = cap.tcp(
            addr(&format!("10.0.0.2:{}", 41000 + i)),
            addr("10.0.0.1:80"),
        );
        flow.handshake(&mut cap);
        flow.send(&mut cap, Dir::C2S, b"GET / HTTP/1.0\r\n\r\n");
        flow.close(&mut cap);
    }
    for i in 0..3u16 {
        let client = addr(&format!("10.0.0.2:{}", 52000 + i));
        cap.udp(client, addr("10.0.0.53:53"), b"query");
        cap.udp(addr("10.0.0.53:53"), client, b"answer");
    }
    cap
}

#[test]
fn summary_counts_other_ports_and_the_report_names_them() {
    let path = temp_path("web", "pcap");
    web_and_dns().write(&path, FileFormat::Pcap).unwrap();
    let p = path.to_str().unwrap();
    let run = labsniff(&["-r", p, "--json"]);
    assert_eq!(run.summary()["lab_port"], 5005);
    assert_eq!(
        run.summary()["other_ports"],
        json!([
            {"transport": "tcp", "port": 80, "conversations": 12},
            {"transport": "udp", "port": 53, "conversations": 3}
        ])
    );
    let expect = "no TCP or UDP traffic to or from port 5005; the capture has TCP port 80 (12 conversations), UDP port 53 (3); try --port 80";
    let report = labsniff(&["-r", p]).stdout;
    assert!(report.contains(expect), "{report}");
    let listing = labsniff(&["-r", p, "--view", "messages"]).stdout;
    assert!(listing.contains(expect), "{listing}");
}

#[test]
fn at_most_ten_ports_and_lab_traffic_says_nothing_of_them() {
    let mut cap = Capture::new(LinkType::Ethernet);
    for port in 1..=15u16 {
        for i in 0..port {
            cap.udp(
                addr(&format!("10.0.0.2:{}", 40000 + i)),
                addr(&format!("10.0.0.1:{}", 6000 + port)),
                b"x",
            );
        }
    }
    let path = temp_path("many", "pcap");
    cap.write(&path, FileFormat::Pcap).unwrap();
    let run = labsniff(&["-r", path.to_str().unwrap(), "--json"]);
    let ports = run.summary()["other_ports"].as_array().unwrap().clone();
    assert_eq!(ports.len(), 10);
    assert_eq!(
        ports[0],
        json!({"transport": "udp", "port": 6015, "conversations": 15})
    );
    assert_eq!(ports[9]["port"], 6006);

    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40000"), addr("10.0.0.1:5005"));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, &lab::v3(1, b"hi"));
    let path = temp_path("lab", "pcap");
    cap.write(&path, FileFormat::Pcap).unwrap();
    let report = labsniff(&["-r", path.to_str().unwrap()]).stdout;
    assert!(!report.contains("no TCP or UDP traffic"), "{report}");
}

/// A client on port 80 (chosen with bind()) is never called ephemeral nor said to have
/// got its port from its kernel, in any part of the report.
#[test]
fn a_privileged_client_port_is_not_called_ephemeral() {
    let mut cap = Capture::new(LinkType::Ethernet);
    for client in ["10.0.0.2:80", "10.0.0.3:40000"] {
        let mut flow = cap.tcp(addr(client), addr("10.0.0.1:5005"));
        flow.handshake(&mut cap);
        flow.send(&mut cap, Dir::C2S, &lab::v3(1, b"hi"));
        flow.send(&mut cap, Dir::S2C, &lab::v3(1, b"hi"));
        flow.close(&mut cap);
    }
    let path = temp_path("priv", "pcap");
    cap.write(&path, FileFormat::Pcap).unwrap();
    let report = labsniff(&["-r", path.to_str().unwrap()]).stdout;
    // The report wraps its lines: compare words.
    let report = report.split_whitespace().collect::<Vec<_>>().join(" ");
    let conv1 = report
        .split("Conversation 2:")
        .next()
        .unwrap()
        .split("Conversation 1:")
        .nth(1)
        .unwrap();
    assert!(conv1.contains("80 is a privileged port"), "{conv1}");
    assert!(!conv1.contains("ephemeral port,"), "{conv1}");
    assert!(!conv1.contains("(its ephemeral port)"), "{conv1}");
    assert!(conv1.contains("(its port 80)"), "{conv1}");
    assert!(
        !report.contains("got its own port from its kernel"),
        "{report}"
    );
    assert!(
        report.contains("each client socket had its own port"),
        "{report}"
    );
}

/// A lab run on another port (5005 was busy): `--port auto`, the default for `-r`,
/// finds the port by its bytes, analyses it, and the report says which port and why.
fn v3_on_15099_beside_web() -> Capture {
    let mut cap = web_and_dns();
    for i in 0..20u16 {
        let mut flow = cap.tcp(
            addr(&format!("10.0.0.2:{}", 43000 + i)),
            addr("10.0.0.1:15099"),
        );
        flow.handshake(&mut cap);
        for order in 1..=3u32 {
            let msg = lab::v3(order, b"hello lab");
            flow.send(&mut cap, Dir::C2S, &msg);
            flow.send(&mut cap, Dir::S2C, &msg);
        }
        flow.close(&mut cap);
    }
    cap
}

#[test]
fn a_lab_run_on_another_port_is_found_analysed_and_named() {
    let path = temp_path("port15099", "pcap");
    v3_on_15099_beside_web()
        .write(&path, FileFormat::Pcap)
        .unwrap();
    let p = path.to_str().unwrap();
    let run = labsniff(&["-r", p, "--json"]);
    assert_eq!(run.status, 0);
    let s = run.summary();
    assert_eq!(s["lab_port"], 15099);
    assert_eq!(
        s["port_choice"],
        json!({"how": "found", "default_port": 5005, "default_port_used": false,
               "transport": "tcp", "conversations": 20, "proto": "v3"})
    );
    assert_eq!(s["conversations"], 20);
    assert_eq!(run.messages().len(), 20 * 6);
    let why = "lab port 15099: port 5005 unused; 20 TCP conversations on port 15099 carry v3";
    let report = labsniff(&["-r", p]);
    assert_eq!(report.status, 0);
    assert!(report.stdout.contains(why), "{}", report.stdout);
    assert!(!report.stdout.contains("no TCP or UDP traffic"));
    let listing = labsniff(&["-r", p, "--view", "messages"]).stdout;
    assert!(listing.contains(why), "{listing}");
    // Explicit ports are kept: nothing is searched.
    let given = labsniff(&["-r", p, "--json", "--port", "5005"]);
    assert_eq!(given.summary()["lab_port"], 5005);
    assert_eq!(given.summary()["port_choice"]["how"], "given");
    assert_eq!(given.summary()["conversations"], 0);
}

#[test]
fn port_5005_in_use_is_kept_and_explicit_auto_searches_everywhere() {
    let mut cap = v3_on_15099_beside_web();
    let mut flow = cap.tcp(addr("10.0.0.3:40000"), addr("10.0.0.1:5005"));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, b"hello\n");
    flow.send(&mut cap, Dir::S2C, b"hello\n");
    flow.close(&mut cap);
    let path = temp_path("both", "pcap");
    cap.write(&path, FileFormat::Pcap).unwrap();
    let p = path.to_str().unwrap();
    let run = labsniff(&["-r", p, "--json"]);
    assert_eq!(run.summary()["lab_port"], 5005);
    assert_eq!(run.summary()["port_choice"]["how"], "default");
    assert_eq!(run.summary()["port_choice"]["default_port_used"], true);
    assert_eq!(run.summary()["conversations"], 1);
    let auto = labsniff(&["-r", p, "--json", "--port", "auto"]);
    assert_eq!(auto.summary()["lab_port"], 15099);
    assert_eq!(auto.summary()["port_choice"]["how"], "found");
    let report = labsniff(&["-r", p, "--port", "auto"]).stdout;
    assert!(
        report.contains("lab port 15099: port 5005 has fewer lab-like conversations; 20 TCP conversations on port 15099 carry v3"),
        "{report}"
    );
}

#[test]
fn no_lab_like_traffic_anywhere_says_so_and_exits_0() {
    let path = temp_path("nolab", "pcap");
    web_and_dns().write(&path, FileFormat::Pcap).unwrap();
    let p = path.to_str().unwrap();
    let run = labsniff(&["-r", p, "--json"]);
    assert_eq!(run.status, 0);
    assert_eq!(run.summary()["lab_port"], 5005);
    assert_eq!(run.summary()["port_choice"]["how"], "none_found");
    let report = labsniff(&["-r", p]);
    assert_eq!(report.status, 0);
    assert!(
        report.stdout.contains("no TCP or UDP traffic to or from port 5005; the capture has TCP port 80 (12 conversations), UDP port 53 (3); try --port 80 (--port auto: none of them carries text, v2 or v3)"),
        "{}",
        report.stdout
    );
    // Live capture keeps its BPF default: `--port auto` needs a file.
    let live = labsniff(&["-i", "lo", "--port", "auto"]);
    assert_eq!(live.status, 2, "{}", live.stderr);
}

/// UDP text echoes on a high port with a lower client port: the server port is where
/// the first datagram went, not the lower of the two.
#[test]
fn udp_text_echo_on_a_high_port_is_found_by_where_the_first_datagram_went() {
    let mut cap = Capture::new(LinkType::Ethernet);
    for i in 0..4u16 {
        let client = addr(&format!("10.0.0.2:{}", 2000 + i));
        cap.udp(client, addr("10.0.0.1:50123"), b"hello udp\n");
        cap.udp(addr("10.0.0.1:50123"), client, b"hello udp\n");
    }
    let run = run_capture("udp-high", &cap, FileFormat::Pcap, &[]);
    assert_eq!(run.status, 0);
    assert_eq!(run.summary()["lab_port"], 50123);
    assert_eq!(run.summary()["port_choice"]["transport"], "udp");
    assert_eq!(run.summary()["port_choice"]["proto"], "text");
    assert_eq!(run.summary()["port_choice"]["conversations"], 4);
    assert_eq!(run.messages().len(), 8);
}
