//! End-to-end tests: captures built with labfixtures (pnet_packet + hand-written
//! savefiles, independent of labsniff's parsing path), read by the labsniff binary.

mod common;

use common::*;
use labfixtures::{lab, Capture, Dir, FileFormat, LinkType};

#[test]
fn smoke() {
    let mut cap = Capture::new(LinkType::Ethernet);
    let mut flow = cap.tcp(addr("10.0.0.2:40000"), addr("10.0.0.1:5005"));
    flow.handshake(&mut cap);
    flow.send(&mut cap, Dir::C2S, &lab::v3(1, b"hello"));
    flow.send(&mut cap, Dir::S2C, &lab::v3(1, b"hello"));
    flow.close(&mut cap);
    let run = run_capture("smoke", &cap, FileFormat::Pcap, &[]);
    for line in &run.lines {
        println!("{line}");
    }
    panic!();
}
