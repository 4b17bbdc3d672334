//! One run of a program in its own folder, with a time limit: stdout and stderr go to
//! files there (no pipe to drain, so no deadlock on large outputs), stdin is /dev/null.

use anyhow::{Context, Result};
use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Exit(ExitStatus),
    TimedOut(Duration),
}

impl End {
    pub fn timed_out(&self) -> bool {
        matches!(self, End::TimedOut(_))
    }

    /// `exit 0`, `killed by signal 9`, `timed out after 60 s`.
    pub fn describe(&self) -> String {
        match self {
            End::Exit(status) => match (status.code(), signal(status)) {
                (Some(code), _) => format!("exit {code}"),
                (None, Some(sig)) => format!("killed by signal {sig}"),
                (None, None) => format!("{status}"),
            },
            End::TimedOut(limit) => format!("timed out after {} s (killed)", limit.as_secs()),
        }
    }
}

fn signal(status: &ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

/// What a run left: its end, stdout and stderr (read back from their files).
#[derive(Debug)]
pub struct Output {
    pub end: End,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Run `program args` in `dir` (created), with `NO_COLOR=1`, `TZ=UTC`, no
/// `LABSNIFF_*` variables (they size labsniff's queues), stdin from /dev/null, and
/// stdout/stderr into `dir/TAG.stdout`, `dir/TAG.stderr`. Killed after `limit`.
pub fn run(
    program: &Path,
    args: &[OsString],
    dir: &Path,
    tag: &str,
    limit: Duration,
) -> Result<Output> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let out_path = dir.join(format!("{tag}.stdout"));
    let err_path = dir.join(format!("{tag}.stderr"));
    let stdout =
        File::create(&out_path).with_context(|| format!("cannot create {}", out_path.display()))?;
    let stderr =
        File::create(&err_path).with_context(|| format!("cannot create {}", err_path.display()))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LABSNIFF_") {
            cmd.env_remove(key);
        }
    }
    let end = wait_limited(&mut cmd, limit)
        .with_context(|| format!("running {} in {}", program.display(), dir.display()))?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    Ok(Output {
        end,
        stdout: read(&out_path)?,
        stderr: read(&err_path)?,
    })
}

/// Start `cmd` and wait for it, polling (1 ms at first, then up to 20 ms between
/// looks); kill it when `limit` passes.
fn wait_limited(cmd: &mut Command, limit: Duration) -> Result<End> {
    let mut child = cmd.spawn().context("cannot start it")?;
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().context("cannot wait for it")? {
            return Ok(End::Exit(status));
        }
        if Instant::now() >= deadline {
            // It may have exited just now: kill() then fails, wait() still reaps it.
            let _ = child.kill();
            child.wait().context("cannot reap it after killing it")?;
            return Ok(End::TimedOut(limit));
        }
        thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_over_its_limit_is_killed_and_said_to_time_out() {
        let dir = std::env::temp_dir().join(format!("xtask-outputs-diff-{}", std::process::id()));
        let limit = Duration::from_millis(300);
        let started = Instant::now();
        let out = run(Path::new("sleep"), &["5".into()], &dir, "t", limit).unwrap();
        assert!(out.end.timed_out(), "{out:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        let quick = run(
            Path::new("sh"),
            &["-c".into(), "echo $TZ; exit 3".into()],
            &dir,
            "t",
            limit,
        )
        .unwrap();
        assert_eq!(
            (quick.end.describe(), quick.stdout),
            ("exit 3".to_string(), b"UTC\n".to_vec())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
