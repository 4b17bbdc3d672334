//! Against the installed libpcap (skipped, with a line saying so, where it cannot be
//! loaded): a dead capture compiles a filter that accepts and refuses frames, and a
//! savefile written here reads back with the same bytes.

use super::*;

fn loaded() -> bool {
    match available() {
        Ok(_) => true,
        Err(e) => {
            println!("skipped: {e}");
            false
        }
    }
}

/// An Ethernet frame carrying IPv4 UDP from port `sport` to 5005.
fn udp_frame(sport: u16) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend([0x08, 0x00]);
    let mut ip = vec![
        0x45,
        0,
        0,
        28 + 4,
        0,
        0,
        0,
        0,
        64,
        17,
        0,
        0,
        10,
        0,
        0,
        1,
        10,
        0,
        0,
        2,
    ];
    ip.extend(sport.to_be_bytes());
    ip.extend(5005u16.to_be_bytes());
    ip.extend([0, 12, 0, 0]);
    ip.extend(b"ping");
    f.extend(ip);
    f
}

#[test]
fn a_compiled_filter_accepts_and_refuses() {
    if !loaded() {
        return;
    }
    let dead = Capture::dead(Linktype(1)).expect("dead capture");
    let prog = dead.compile("udp port 5005", true).expect("compiles");
    assert!(prog.filter(&udp_frame(40000)));
    let other = dead.compile("udp port 7", true).expect("compiles");
    assert!(!other.filter(&udp_frame(40000)));
    assert!(
        !prog.filter(&[]),
        "an empty frame is refused, not read past"
    );
}

#[test]
fn a_bad_filter_says_why() {
    if !loaded() {
        return;
    }
    let dead = Capture::dead(Linktype(1)).expect("dead capture");
    match dead.compile("port not-a-port", true) {
        Err(Error::PcapError(text)) => assert!(!text.is_empty()),
        other => panic!("expected libpcap's error, got {other:?}"),
    }
    assert_eq!(dead.compile("a\0b", true).err(), Some(Error::InvalidString));
}

#[test]
fn a_savefile_reads_back() {
    if !loaded() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("pcaprt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("back.pcap");
    let frames: Vec<Vec<u8>> = (0..5).map(|i| udp_frame(40000 + i)).collect();
    {
        let dead = Capture::dead(Linktype(1)).expect("dead capture");
        let mut save = dead.savefile(&path).expect("savefile");
        for (i, f) in frames.iter().enumerate() {
            let header = PacketHeader {
                ts: libc::timeval {
                    tv_sec: 1_700_000_000 + i as libc::time_t,
                    tv_usec: 250,
                },
                caplen: f.len() as u32,
                len: f.len() as u32,
            };
            save.write(&Packet::new(&header, f));
        }
        save.flush().expect("flush");
    }
    let mut cap = Capture::from_file(&path).expect("reads back");
    assert_eq!(cap.get_datalink(), Linktype(1));
    let mut n = 0;
    loop {
        match cap.next_packet() {
            Ok(p) => {
                assert_eq!(p.data, frames[n].as_slice());
                assert_eq!(p.header.ts.tv_sec, 1_700_000_000 + n as libc::time_t);
                assert_eq!(p.header.ts.tv_usec, 250);
                n += 1;
                assert!(n <= frames.len(), "more frames than written");
            }
            Err(Error::NoMorePackets) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(n, frames.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn names_come_from_libpcap_or_the_table() {
    assert_eq!(Linktype(1).get_name().as_deref(), Ok("EN10MB"));
    assert_eq!(Linktype(113).get_name().as_deref(), Ok("LINUX_SLL"));
    assert!(Linktype(-12345).get_name().is_err());
}

#[test]
fn a_missing_device_is_an_error_not_a_panic() {
    if !loaded() {
        return;
    }
    let result = Capture::from_device("labnodev0").and_then(|c| c.open());
    assert!(matches!(result, Err(Error::PcapError(_))), "{result:?}");
}
