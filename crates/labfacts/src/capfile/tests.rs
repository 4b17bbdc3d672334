//! The reader on hand-made files: timestamps per interface resolution and offset,
//! the obsolete Packet Block, sections that renumber interfaces, and damage.

use super::*;
use labfixtures::blocks::PcapNg;

fn reader(bytes: Vec<u8>) -> CaptureFile {
    CaptureFile::from_reader(Box::new(std::io::Cursor::new(bytes)), false).unwrap()
}

/// A frame read: link type, timestamp, bytes.
type Read = (i32, Micros, Vec<u8>);

/// Every frame, then the fault that ended the file, if any.
fn read_all(mut file: CaptureFile) -> (Vec<Read>, Option<Fault>) {
    let mut frames = Vec::new();
    // Bounded: a handful of blocks per test.
    for _ in 0..1000 {
        match file.next_frame() {
            Next::Frame(f) => frames.push((f.dlt, f.ts, f.data.to_vec())),
            Next::Skipped(_) | Next::Pause => {}
            Next::Fatal(fault) => return (frames, Some(fault)),
            Next::End => return (frames, None),
        }
    }
    panic!("no end");
}

#[test]
fn timestamps_follow_each_interfaces_resolution() {
    let mut ng = PcapNg::new();
    ng.section(false)
        .interface(1, 65535, None) // µs
        .interface(101, 65535, Some(9)) // ns
        .interface(113, 65535, Some(0x80 | 10)); // 2^-10 s
    ng.enhanced(0, 1_700_000_000_123_456, b"a", 1);
    ng.enhanced(1, 1_700_000_000_123_456_789, b"b", 1);
    ng.enhanced(2, (1_700_000_000u64 << 10) | 512, b"c", 1);
    let (frames, fault) = read_all(reader(ng.bytes()));
    assert_eq!(fault, None);
    assert_eq!(
        frames,
        vec![
            (1, 1_700_000_000_123_456, b"a".to_vec()),
            (101, 1_700_000_000_123_456, b"b".to_vec()),
            (113, 1_700_000_000_500_000, b"c".to_vec()),
        ]
    );
}

#[test]
fn a_new_section_renumbers_interfaces_and_may_change_byte_order() {
    let mut ng = PcapNg::new();
    ng.section(false).interface(1, 65535, None);
    ng.enhanced(0, 1, b"eth", 3);
    ng.section(true).interface(113, 65535, None);
    ng.obsolete(0, 2, b"sll", 3);
    ng.simple(b"sll-spb", 7);
    let mut file = reader(ng.bytes());
    assert_eq!(file.first_dlt(), Some(1));
    let (frames, fault) = read_all(file);
    assert_eq!(fault, None);
    let got: Vec<(i32, Vec<u8>)> = frames.into_iter().map(|(d, _, b)| (d, b)).collect();
    assert_eq!(
        got,
        vec![
            (1, b"eth".to_vec()),
            (113, b"sll".to_vec()),
            (113, b"sll-spb".to_vec())
        ]
    );
}

#[test]
fn a_simple_packet_block_is_cut_at_the_snaplen() {
    let mut ng = PcapNg::new();
    ng.section(false).interface(1, 4, None);
    ng.simple(b"abcdefgh", 8);
    let (frames, _) = read_all(reader(ng.bytes()));
    assert_eq!(frames[0].2, b"abcd".to_vec());
}

#[test]
fn a_huge_block_length_is_refused_without_growing_the_buffer() {
    let mut ng = PcapNg::new();
    ng.section(false).interface(1, 65535, None);
    ng.enhanced(0, 1, b"ok", 2);
    let at = ng.len() as u64;
    ng.raw_u32(6).raw_u32(0xFFFF_FFF0).raw(&[0; 32]);
    let (frames, fault) = read_all(reader(ng.bytes()));
    assert_eq!(frames.len(), 1);
    let fault = fault.unwrap();
    assert_eq!(fault.offset, at);
    assert_eq!(
        fault.kind,
        FileFault::TooLong {
            pcapng: true,
            claimed: 4294967280,
            max: MAX_BLOCK
        }
    );
}

#[test]
fn a_block_longer_than_the_buffer_but_sane_is_read() {
    let big = vec![0x5a; 3 << 20];
    let mut ng = PcapNg::new();
    ng.section(false).interface(1, 0, None);
    ng.enhanced(0, 1, &big, big.len() as u32);
    ng.enhanced(0, 2, b"after", 5);
    let (frames, fault) = read_all(reader(ng.bytes()));
    assert_eq!(fault, None);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].2.len(), big.len());
    assert_eq!(frames[1].2, b"after".to_vec());
}

#[test]
fn garbage_and_short_files_are_refused_at_open() {
    let open =
        |b: &[u8]| CaptureFile::from_reader(Box::new(std::io::Cursor::new(b.to_vec())), false);
    assert_eq!(
        open(b"not a capture, just some text here").unwrap_err(),
        OpenError::UnknownFormat
    );
    assert_eq!(OpenError::UnknownFormat.to_string(), "unknown file format");
    assert_eq!(open(&[0xd4, 0xc3]).unwrap_err(), OpenError::TooShort);
}

#[test]
fn linktypes_map_to_libpcap_dlts() {
    assert_eq!(dlt_of_linktype(101), 12);
    assert_eq!(dlt_of_linktype(1), 1);
    assert_eq!(dlt_of_linktype(276), 276);
}
