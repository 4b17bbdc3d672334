//! The floor for `cargo xtask bench`: a bare libpcap read loop over a capture file,
//! doing nothing with the packets. Prints the number of packets read.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: read_floor FILE");
        return ExitCode::from(2);
    };
    let mut cap = match pcaprt::Capture::from_file(&path) {
        Ok(cap) => cap,
        Err(e) => {
            eprintln!("read_floor: cannot read '{path}': {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut packets: u64 = 0;
    loop {
        match cap.next_packet() {
            Ok(_) => packets += 1,
            Err(pcaprt::Error::NoMorePackets) => break,
            Err(e) => {
                eprintln!("read_floor: after {packets} packets: {e}");
                break;
            }
        }
    }
    println!("{packets}");
    ExitCode::SUCCESS
}
