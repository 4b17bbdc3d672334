//! labsniff and labnet on a machine without libpcap (issue 25): every libpcap shared
//! object is hidden in a private mount namespace (root), then files are read, graded and
//! the dissector written as with it, and live capture, `-f` and `-w` say what to install
//! (exit 12).

#[macro_use]
#[path = "../../../test-support/skip.rs"]
mod skip;

use std::path::Path;
use std::process::{Command, Output};

/// Hide libpcap (bind-mount /dev/null over each of its shared objects, in a mount
/// namespace of this command only), then run `bin args`.
const HIDE: &str = r#"for f in /usr/lib/*/libpcap.so* /lib/*/libpcap.so* /usr/lib/libpcap.so* /usr/lib64/libpcap.so*; do
  [ -e "$f" ] && { mount --bind /dev/null "$f" || exit 90; }
done
exec "$@""#;

fn is_root() -> bool {
    // The effective uid, from /proc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn without_libpcap(bin: &str, args: &[&str]) -> Option<Output> {
    if !is_root() {
        skip_note!("skipped: needs root (a private mount namespace hides libpcap)");
        return None;
    }
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", HIDE, "sh", bin])
        .args(args)
        .output();
    match out {
        Ok(o) if o.status.code() == Some(90) => {
            skip_note!("skipped: cannot bind-mount over libpcap here");
            None
        }
        Ok(o) => Some(o),
        Err(e) => {
            skip_note!("skipped: unshare is missing ({e})");
            None
        }
    }
}

fn labsniff() -> &'static str {
    env!("CARGO_BIN_EXE_labsniff")
}

fn fixture() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/netlab/loss_v3_100k.client.pcap")
        .display()
        .to_string()
}

#[test]
fn files_read_the_same_without_libpcap() {
    let f = fixture();
    for args in [
        vec!["-r", &f],
        vec!["-r", &f, "--json"],
        vec!["lua-dissector"],
    ] {
        let Some(hidden) = without_libpcap(labsniff(), &args) else {
            return;
        };
        let with = Command::new(labsniff())
            .args(&args)
            .output()
            .expect("labsniff");
        assert!(
            hidden.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&hidden.stderr)
        );
        assert!(!hidden.stdout.is_empty());
        assert_eq!(hidden.stdout, with.stdout, "{args:?}");
    }
}

#[test]
fn grading_works_without_libpcap() {
    let f = fixture();
    let args = ["grade", "--exercise", "5.3", f.as_str(), "--json"];
    let Some(hidden) = without_libpcap(labsniff(), &args) else {
        return;
    };
    let with = Command::new(labsniff())
        .args(args)
        .output()
        .expect("labsniff");
    assert_eq!(hidden.status.code(), with.status.code());
    assert_eq!(hidden.stdout, with.stdout);
    assert!(!hidden.stdout.is_empty());
}

#[test]
fn live_capture_filters_and_w_say_what_to_install() {
    let f = fixture();
    let cases: [(&[&str], &str); 3] = [
        (&["-i", "lo", "-c", "1"], "capturing on 'lo' needs libpcap"),
        (&["-r", &f, "-f", "tcp"], "the filter 'tcp' needs libpcap"),
        (
            &["-r", &f, "-w", "/tmp/labsniff-no-libpcap.pcap"],
            "(-w) needs libpcap",
        ),
    ];
    for (args, says) in cases {
        let Some(out) = without_libpcap(labsniff(), args) else {
            return;
        };
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(12), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(err.contains("sudo apt install libpcap0.8"), "{err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}
