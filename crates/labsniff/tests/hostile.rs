//! Hostile inputs cost about a bare read, and grading bounds each file: records
//! without bytes are summed up in one diagnostic; `grade --max-frames/--max-seconds`
//! cut a file short and say so; a pipe in the class's folder is not read.

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn labsniff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_labsniff"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labsniff-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// A pcap (Ethernet) header and `n` records of 0 captured bytes.
fn empty_records(n: usize) -> Vec<u8> {
    let mut f = Vec::with_capacity(24 + 16 * n);
    f.extend(0xa1b2_c3d4u32.to_le_bytes());
    f.extend(2u16.to_le_bytes());
    f.extend(4u16.to_le_bytes());
    f.extend([0u8; 8]);
    f.extend(65_535u32.to_le_bytes());
    f.extend(1u32.to_le_bytes());
    f.resize(24 + 16 * n, 0);
    f
}

#[test]
fn empty_records_are_summed_up_not_said_one_by_one() {
    let path = temp("empty.pcap");
    std::fs::write(&path, empty_records(100_000)).expect("write");
    let out = labsniff()
        .args(["-r".as_ref(), path.as_os_str(), "--json".as_ref()])
        .output()
        .expect("labsniff");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let diags: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"type\":\"diagnostic\""))
        .collect();
    assert_eq!(
        diags.len(),
        11,
        "10 said, 1 counting the rest: {}",
        diags.len()
    );
    let last = diags.last().expect("a diagnostic");
    assert!(
        last.contains("\"frame\":11,")
            && last
                .contains("99,990 more frames, up to frame 100000, had the same fault as frame 1"),
        "{last}"
    );
    assert!(
        text.contains("\"frames\":100000,"),
        "every frame is counted"
    );
}

#[test]
fn grade_cuts_a_file_short_and_says_so() {
    let path = temp("long.pcap");
    std::fs::write(&path, empty_records(1_000)).expect("write");
    let out = labsniff()
        .args([
            "grade",
            "--exercise",
            "1.2",
            "--json",
            "--max-frames",
            "100",
        ])
        .arg(&path)
        .output()
        .expect("labsniff");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(11), "{text}");
    assert!(
        text.contains("cut short: only its first 100 frames were read (--max-frames)"),
        "{text}"
    );
}

#[test]
fn grade_stops_a_slow_file_on_time() {
    // 32 MiB of zeros behind a pcap header, gzip'd: 2 M empty records from ~32 KB.
    use flate2::write::GzEncoder;
    let path = temp("bomb.pcap.gz");
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&empty_records(0)).expect("gzip");
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..32 {
        gz.write_all(&zeros).expect("gzip");
    }
    std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
    let started = std::time::Instant::now();
    let out = labsniff()
        .args(["grade", "--exercise", "1.2", "--json", "--max-seconds", "1"])
        .arg(&path)
        .output()
        .expect("labsniff");
    let text = String::from_utf8_lossy(&out.stdout);
    // Either the second was up (cut short, said) or the file was read whole in time.
    if text.contains("cut short") {
        assert!(
            text.contains("reading took longer than 1 s (--max-seconds)"),
            "{text}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    } else {
        assert!(
            text.contains("2,097,152 frames") || text.contains("2097152 frames"),
            "{text}"
        );
    }
}

#[test]
fn grade_does_not_read_a_pipe() {
    let fifo = temp("class.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        skip_note!("skipped: mkfifo failed");
        return;
    }
    // Nothing ever writes to the FIFO: reading it would block forever.
    let out = labsniff()
        .args(["grade", "--exercise", "1.2", "--json"])
        .arg(&fifo)
        .output()
        .expect("labsniff");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not a regular file"), "{text}");
    let _ = std::fs::remove_file(Path::new(&fifo));
}
