//! A command's CPU time and peak RSS from wait4(2), for `cargo xtask bench --only dense`.
//!
//! [`crate::measure`] reads CPU time from /proc in 10 ms clock ticks: on the dense
//! capture `tcpdump -r` takes about 0.1 s, so a tick would be ~8% of the floor that
//! every ratio divides by. wait4's rusage has the same time in microseconds (the
//! kernel's per-task runtime, every thread included). xtask has no libc binding, so a
//! few lines of Python fork, exec the command (its stdout redirected into a file when
//! asked), sample its VmHWM every 5 ms as [`crate::measure`] does, and wait4 it,
//! writing "wall user sys peak_kib status" to a report file; [`crate::measure::run_with`]
//! runs that shim, with its timeout. The command dies with the shim
//! (PR_SET_PDEATHSIG), so a timeout kills both.

use crate::measure::{self, Measured};
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// argv: REPORT OUT PROGRAM ARGS... (OUT '-': stdout left as it is). The child's end
/// of the pipe closes at its exec: only then is VmHWM the command's own (before, the
/// forked child's memory is a copy of Python's, which is also why wait4's ru_maxrss,
/// carried across exec, is not used).
const SHIM: &str = r#"
import ctypes, os, sys, time
report, out, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
r, w = os.pipe()
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.close(r)
        ctypes.CDLL(None).prctl(1, 9)
        if out != '-':
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.close(fd)
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
os.close(w)
os.read(r, 1)
def hwm():
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
peak = 0
while True:
    got, status, ru = os.wait4(pid, os.WNOHANG)
    if got:
        break
    peak = max(peak, hwm())
    time.sleep(0.005)
wall = time.perf_counter() - t0
code = os.waitstatus_to_exitcode(status)
with open(report, 'w') as f:
    f.write(f'{wall} {ru.ru_utime} {ru.ru_stime} {peak} {code}\n')
sys.exit(0 if code == 0 else 1)
"#;

/// One run's figures: [`Measured`] (CPU = user + system) and the system part alone.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub measured: Measured,
    pub sys_secs: f64,
}

/// A command to measure.
#[derive(Debug, Clone)]
pub struct Job {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Where its stdout goes (None: /dev/null).
    pub stdout: Option<PathBuf>,
}

impl Job {
    pub fn new(program: impl Into<PathBuf>, args: &[&dyn AsRef<std::ffi::OsStr>]) -> Job {
        Job {
            program: program.into(),
            args: args.iter().map(|a| a.as_ref().to_os_string()).collect(),
            stdout: None,
        }
    }
}

/// Run `job` to completion (at most `timeout`); wall time, CPU and peak RSS from wait4.
/// `report` is a scratch file for the shim's figures.
/// The previous run's output file is removed first, here: truncating it in the child
/// would charge the command with freeing its pages (26 ms for 362 MB of JSON lines).
pub fn run(name: &str, job: &Job, report: &Path, timeout: Duration) -> Result<Usage> {
    let _ = std::fs::remove_file(report);
    if let Some(out) = &job.stdout {
        let _ = std::fs::remove_file(out);
    }
    let mut cmd = Command::new("python3");
    cmd.args(["-c", SHIM])
        .arg(report)
        .arg(job.stdout.as_deref().unwrap_or(Path::new("-")))
        .arg(&job.program)
        .args(&job.args);
    measure::run_with(name, &mut cmd, timeout, measure::Stdout::Null)?;
    let text = std::fs::read_to_string(report)
        .with_context(|| format!("{name}: the wait4 shim wrote no {}", report.display()))?;
    parse(&text).with_context(|| format!("{name}: cannot read the shim's '{}'", text.trim()))
}

/// "wall user sys peak_kib status" → Usage.
fn parse(text: &str) -> Result<Usage> {
    let f: Vec<&str> = text.split_whitespace().collect();
    let [wall, user, sys, rss, code] = f[..] else {
        bail!("expected 5 fields");
    };
    if code != "0" {
        bail!("exit status {code}");
    }
    let user: f64 = user.parse()?;
    let sys: f64 = sys.parse()?;
    let measured = Measured {
        wall: Duration::from_secs_f64(wall.parse()?),
        peak_rss_kib: rss.parse()?,
        cpu_secs: user + sys,
    };
    Ok(Usage {
        measured,
        sys_secs: sys,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shims_line() {
        let u = parse("0.25 0.123456 0.010001 40960 0\n").unwrap();
        assert!((u.measured.cpu_secs - 0.133457).abs() < 1e-9);
        assert!((u.sys_secs - 0.010001).abs() < 1e-9);
        assert_eq!(u.measured.peak_rss_kib, 40960);
        assert!(parse("0.25 0.1 0.0 100 1").is_err());
        assert!(parse("garbage").is_err());
    }

    #[test]
    fn measures_a_command_and_redirects_its_stdout() {
        let dir = std::env::temp_dir().join(format!("xtask-rusage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Long enough for a VmHWM sample (one taking less than 5 ms may show 0).
        let mut job = Job::new("sh", &[&"-c", &"echo hello; sleep 0.1"]);
        job.stdout = Some(dir.join("out"));
        let u = run("sh", &job, &dir.join("report"), Duration::from_secs(30)).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("out")).unwrap(), "hello\n");
        assert!(u.measured.peak_rss_kib > 0 && u.measured.cpu_secs >= u.sys_secs);
        let failing = Job::new("sh", &[&"-c", &"exit 3"]);
        assert!(run("sh", &failing, &dir.join("report"), Duration::from_secs(30)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
