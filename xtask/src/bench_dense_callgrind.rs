//! Instruction counts for `cargo xtask bench --only dense --base REV`: callgrind runs of
//! the base revision's labsniff and the working tree's over the first 200,000 frames of
//! the dense capture (20,000 with `--quick`), the explain report and `--json`. Unlike CPU
//! seconds on a shared machine, these move only when the code does. User-space
//! instructions only: where the output goes (here /dev/null) does not change them.
//! The callgrind files are kept in `target/bench/` for `callgrind_annotate`.

use crate::util::have;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Frames of the dense capture that the instruction counts cover.
fn cut_frames(quick: bool) -> u64 {
    if quick {
        20_000
    } else {
        200_000
    }
}

/// The section: per mode, "before X M, after Y M instructions (±%)".
pub fn section(before: &Path, after: &Path, capture: &Path, quick: bool) -> Result<String> {
    if !have("valgrind") {
        return Ok("\ninstruction counts skipped: valgrind is not installed \
                   (`apt-get install -y valgrind`)\n"
            .to_string());
    }
    let frames = cut_frames(quick);
    let cut = cut(capture, frames)?;
    let mut out = format!(
        "\ninstructions (callgrind, whole runs over the first {frames} frames: {}):\n\n",
        cut.display()
    );
    for (label, extra) in [("explain report", &[][..]), ("--json", &["--json"][..])] {
        let b = instructions(before, &cut, extra, "before")?;
        let a = instructions(after, &cut, extra, "after")?;
        out.push_str(&format!(
            "- {label}: before {:.1} M, after {:.1} M instructions ({:+.1}%)\n",
            b as f64 / 1e6,
            a as f64 / 1e6,
            (a as f64 / b.max(1) as f64 - 1.0) * 100.0
        ));
    }
    Ok(out)
}

/// `tcpdump -r FILE -c N -w CUT`, made once next to the capture.
fn cut(capture: &Path, frames: u64) -> Result<PathBuf> {
    let out = capture.with_extension(format!("first{frames}.pcap"));
    if out.is_file() && newer(&out, capture) {
        return Ok(out);
    }
    let partial = out.with_extension("partial");
    crate::util::run(
        &format!("cut the first {frames} frames"),
        Command::new("timeout")
            .arg("300")
            .args(["tcpdump", "-Z", "root", "-r"])
            .arg(capture)
            .args(["-c", &frames.to_string(), "-w"])
            .arg(&partial)
            .stderr(Stdio::null()),
    )?;
    std::fs::rename(&partial, &out)
        .with_context(|| format!("cannot rename {}", partial.display()))?;
    Ok(out)
}

/// `a` was modified after `b` (a cut made from an older capture is made again).
fn newer(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(a), modified(b)), (Some(x), Some(y)) if x >= y)
}

/// Instructions of one whole run of `bin -r CUT EXTRA...` (callgrind's "Collected").
fn instructions(bin: &Path, cut: &Path, extra: &[&str], who: &str) -> Result<u64> {
    let mode = if extra.is_empty() { "report" } else { "json" };
    let file = cut.with_extension(format!("callgrind.{mode}.{who}.out"));
    eprintln!("xtask: callgrind, {who}, {mode}");
    let out = Command::new("timeout")
        .arg("1800")
        .args(["valgrind", "--tool=callgrind", "--dump-instr=no"])
        .arg(format!("--callgrind-out-file={}", file.display()))
        .arg(bin)
        .arg("-r")
        .arg(cut)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .context("cannot run valgrind")?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!(
            "callgrind of {} failed ({}): {}",
            bin.display(),
            out.status,
            err.trim()
        );
    }
    collected(&err).with_context(|| format!("no 'Collected' line from callgrind:\n{err}"))
}

/// "==123== Collected : 772512345" → 772512345.
fn collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|l| {
        let (_, rest) = l.split_once("Collected :")?;
        rest.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::collected;

    #[test]
    fn reads_callgrinds_total() {
        let err = "==7== Events    : Ir\n==7== Collected : 772512345\n==7==\n";
        assert_eq!(collected(err), Some(772_512_345));
        assert_eq!(collected("nothing"), None);
    }
}
