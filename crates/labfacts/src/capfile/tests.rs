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

/// A pcap file written by hand: `magic` as the file's first four bytes in its own
/// byte order, then each record (ts_sec, ts_frac, bytes, orig_len).
fn pcap_file(big_endian: bool, magic: u32, records: &[(u32, u32, Vec<u8>, u32)]) -> Vec<u8> {
    let word = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut out = Vec::new();
    out.extend(word(magic));
    out.extend(if big_endian {
        [0, 2, 0, 4]
    } else {
        [2, 0, 4, 0]
    });
    out.extend([0; 8]);
    out.extend(word(262_144));
    out.extend(word(1));
    for (sec, frac, bytes, orig) in records {
        out.extend(word(*sec));
        out.extend(word(*frac));
        out.extend(word(bytes.len() as u32));
        out.extend(word(*orig));
        out.extend(bytes);
    }
    out
}

/// The pcap records read at the front of the buffer (the common case, without
/// pcap-parser) against the obviously-correct model: every record in order with its
/// bytes, its timestamp in µs and link type 1, in both byte orders and both
/// resolutions, with records from 0 bytes to past the 1 MiB buffer (which go the
/// parser's way), and a file cut inside its last record ending in that fault after
/// every whole record.
#[test]
fn pcap_records_equal_the_model_in_both_byte_orders_and_resolutions() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for (big_endian, nanos) in [(false, false), (true, false), (false, true), (true, true)] {
        let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
        let records: Vec<(u32, u32, Vec<u8>, u32)> = (0..300u32)
            .map(|i| {
                let len = match i {
                    7 => BUFFER + 5_000,
                    _ if i % 50 == 0 => 0,
                    _ => next(2_000) as usize,
                };
                let bytes: Vec<u8> = (0..len).map(|j| (j as u32 ^ i) as u8).collect();
                let frac = next(if nanos { 1_000_000_000 } else { 1_000_000 }) as u32;
                (1_700_000_000 + i, frac, bytes, len as u32 + next(3) as u32)
            })
            .collect();
        let bytes = pcap_file(big_endian, magic, &records);
        let (frames, fault) = read_all(reader(bytes.clone()));
        assert!(fault.is_none(), "{fault:?}");
        assert_eq!(frames.len(), records.len());
        for ((dlt, ts, data), (sec, frac, want, _)) in frames.iter().zip(&records) {
            let micros = u64::from(*frac) / if nanos { 1000 } else { 1 };
            assert_eq!((*dlt, *ts), (1, u64::from(*sec) * 1_000_000 + micros));
            assert_eq!(data, want);
        }
        // Cut 3 bytes into the last record's data.
        let (last_sec, _, last, _) = &records[records.len() - 1];
        let cut = bytes.len() - last.len().saturating_sub(3).max(1);
        let (frames, fault) = read_all(reader(bytes[..cut].to_vec()));
        assert_eq!(
            frames.len(),
            records.len() - 1,
            "cut in record at {last_sec}"
        );
        assert!(
            fault.is_some_and(|f| f.kind == FileFault::EndsInsideRecord),
            "big_endian {big_endian}"
        );
    }
}

#[test]
fn a_frame_read_past_by_keep_is_not_handed_out() {
    let records: Vec<(u32, u32, Vec<u8>, u32)> = (0..20u32)
        .map(|i| (i, 0, vec![i as u8; 10 + i as usize], 10 + i))
        .collect();
    let mut file = reader(pcap_file(false, 0xa1b2_c3d4, &records));
    let mut lens = Vec::new();
    for _ in 0..100 {
        match file.next_kept(&mut |_, d| d[0] % 3 == 0) {
            Next::Frame(f) => lens.push(f.data.len()),
            Next::End => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(lens, vec![10, 13, 16, 19, 22, 25, 28]);
}
