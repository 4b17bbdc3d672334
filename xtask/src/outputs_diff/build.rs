//! The two labsniff binaries: the base revision's (exported with `git archive`, built
//! in its own target dir, cached by full commit id) and the working tree's.

use crate::util::{cargo, root, run};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The binaries compared.
#[derive(Debug)]
pub struct Builds {
    pub base: PathBuf,
    pub work: PathBuf,
}

/// Build (or find cached) labsniff at `rev` and in the working tree; say which.
pub fn both(rev: &str, dir: &Path) -> Result<Builds> {
    let sha = resolve(rev)?;
    let base = base_binary(&sha, dir)?;
    run(
        "build labsniff (working tree, release)",
        cargo().args(["build", "--release", "-p", "labsniff"]),
    )?;
    let work = target_dir().join("release/labsniff");
    let head = resolve("HEAD")?;
    let dirty = if git(&["status", "--porcelain"])?.trim().is_empty() {
        ""
    } else {
        " (dirty)"
    };
    println!("before: {rev} = {sha}  ({})", base.display());
    println!(
        "after:  working tree{dirty} at HEAD = {head}  ({})",
        work.display()
    );
    Ok(Builds { base, work })
}

/// Where the working tree's cargo builds: `$CARGO_TARGET_DIR`, else `ROOT/target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}

/// `git -C ROOT ARGS...`'s stdout.
fn git(args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run git {}", args.join(" ")))?;
    if !out.status.success() {
        bail!("git {} failed ({})", args.join(" "), out.status);
    }
    String::from_utf8(out.stdout).with_context(|| format!("git {}: not UTF-8", args.join(" ")))
}

/// The full commit id of `rev`.
fn resolve(rev: &str) -> Result<String> {
    let spec = format!("{rev}^{{commit}}");
    let sha = git(&["rev-parse", "--verify", "--quiet", &spec])
        .with_context(|| format!("'{rev}' is not a commit of this repository"))?;
    Ok(sha.trim().to_string())
}

/// `DIR/labsniff-SHA`, built unless it is there already.
fn base_binary(sha: &str, dir: &Path) -> Result<PathBuf> {
    let binary = dir.join(format!("labsniff-{sha}"));
    if binary.is_file() {
        eprintln!(
            "outputs-diff: labsniff at {sha} already built ({})",
            binary.display()
        );
        return Ok(binary);
    }
    let src = dir.join(format!("src-{sha}"));
    if src.exists() {
        std::fs::remove_dir_all(&src).with_context(|| format!("cannot clear {}", src.display()))?;
    }
    std::fs::create_dir_all(&src).with_context(|| format!("cannot create {}", src.display()))?;
    export(sha, &src)?;
    let target = dir.join("target-base");
    run(
        &format!("build labsniff at {sha} (release, in {})", src.display()),
        cargo()
            .current_dir(&src)
            .env("CARGO_TARGET_DIR", &target)
            .args(["build", "--release", "-p", "labsniff"]),
    )?;
    // Copy, then rename: a binary under the cached name is always a whole one.
    let partial = dir.join(format!("labsniff-{sha}.partial"));
    let built = target.join("release/labsniff");
    std::fs::copy(&built, &partial)
        .with_context(|| format!("cannot copy {} to {}", built.display(), partial.display()))?;
    std::fs::rename(&partial, &binary)
        .with_context(|| format!("cannot rename {}", partial.display()))?;
    std::fs::remove_dir_all(&src).with_context(|| format!("cannot remove {}", src.display()))?;
    Ok(binary)
}

/// `git archive SHA | tar -x -m -C SRC`.
fn export(sha: &str, src: &Path) -> Result<()> {
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(["archive", sha])
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot run git archive")?;
    let tree = archive
        .stdout
        .take()
        .context("git archive: no stdout pipe")?;
    // -m: the files' times are now, not the commit's. Cargo decides what to rebuild
    // by comparing file times, and the target dir is shared across revisions: with
    // the commit's (older) times an older revision's sources would pass for built.
    let tar = Command::new("tar")
        .args(["-x", "-m"])
        .arg("-C")
        .arg(src)
        .stdin(Stdio::from(tree))
        .status()
        .context("cannot run tar")?;
    let git = archive.wait().context("cannot wait for git archive")?;
    if !git.success() || !tar.success() {
        bail!(
            "git archive {sha} | tar -x -m -C {} failed (git: {git}, tar: {tar})",
            src.display()
        );
    }
    Ok(())
}

/// The synthetic capture (`gen-capture --conns 50 --pairs 20 --seed 7`), made once.
pub fn synthetic(dir: &Path) -> Result<PathBuf> {
    let out = dir.join("synthetic-conns50-pairs20-seed7.pcap");
    if out.is_file() {
        return Ok(out);
    }
    let partial = dir.join("synthetic.partial.pcap");
    run(
        "make the synthetic capture (labfixtures gen-capture)",
        cargo()
            .args([
                "run",
                "--quiet",
                "--release",
                "-p",
                "labfixtures",
                "--bin",
                "gen-capture",
                "--",
            ])
            .arg(&partial)
            .args(["--conns", "50", "--pairs", "20", "--seed", "7"])
            .stdout(std::io::stderr()),
    )?;
    std::fs::rename(&partial, &out)
        .with_context(|| format!("cannot rename {}", partial.display()))?;
    Ok(out)
}
