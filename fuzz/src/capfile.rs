//! Target `capfile`: labsniff's capture-file reader on arbitrary bytes (pcap or
//! pcapng, as the reader decides by content). Invariants: no panic; reading ends (every
//! call consumes input or ends the file); a fault names an offset within the input
//! for uncompressed files; frames handed out lie within the input.

use labsniff::capfile::{CaptureFile, Next};

/// Calls to `next_frame` at most: each returns a frame, a skipped record or the end,
/// and a record takes at least 4 bytes, so a finite input ends well before this.
const MAX_CALLS: usize = 1 << 20;

pub fn check(data: &[u8]) {
    // Uncompressed: gzip is flate2's job, and its offsets would be of other bytes.
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(mut file) = CaptureFile::from_reader(input, false) else {
        return;
    };
    let _ = file.first_dlt();
    for _ in 0..MAX_CALLS {
        match file.next_frame() {
            Next::Frame(f) => assert!(f.data.len() <= data.len()),
            Next::Skipped(fault) => assert!(fault.offset <= data.len() as u64, "{fault:?}"),
            Next::Fatal(fault) => {
                assert!(fault.offset <= data.len() as u64, "{fault:?}");
                return;
            }
            Next::End => return,
            Next::Pause => {}
        }
    }
    panic!("the reader did not end within {MAX_CALLS} calls");
}
