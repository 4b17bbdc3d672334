//! The captures both binaries read: the repository's, the demos', a synthetic one and
//! the command line's, each once, sorted.

use crate::util::root;
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Folders deeper than this are not searched (a symlink loop ends here).
const MAX_DEPTH: usize = 16;

/// How a folder's files are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    /// By name: `.pcap`, `.pcapng`, `.pcap.gz`, `.cap`.
    Name,
    /// By the first bytes: a pcap, pcapng or gzip magic number.
    Magic,
    /// Either.
    NameOrMagic,
}

/// Every input, absolute, sorted, each once; prints how many came from where.
pub fn collect(dir: &Path, extra: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let root = root();
    let mut seen = BTreeSet::new();
    let mut counts = Vec::new();
    let sources = [
        ("crates/labsniff/tests/fixtures", Pick::Name),
        ("fuzz/regressions", Pick::Magic),
        ("target/demo", Pick::Name),
        ("target/demo-net", Pick::Name),
    ];
    for (folder, pick) in sources {
        let path = root.join(folder);
        if !path.is_dir() {
            counts.push(format!("{folder}: absent"));
            continue;
        }
        let (found, skipped) = walk(&path, pick)?;
        let new = add(&mut seen, found)?;
        let skipped = if skipped > 0 && pick == Pick::Magic {
            format!(" ({skipped} not captures, skipped)")
        } else {
            String::new()
        };
        counts.push(format!("{folder}: {new}{skipped}"));
    }
    let synthetic = super::build::synthetic(dir)?;
    let new = add(&mut seen, vec![synthetic])?;
    counts.push(format!(
        "synthetic (gen-capture --conns 50 --pairs 20 --seed 7): {new}"
    ));
    let new = add(&mut seen, extra_files(extra)?)?;
    counts.push(format!("command line: {new}"));
    println!("inputs: {} files", seen.len());
    for line in counts {
        println!("  {line}");
    }
    Ok(seen.into_iter().collect())
}

/// Add the files not seen yet (by canonical path); how many were new.
fn add(seen: &mut BTreeSet<PathBuf>, files: Vec<PathBuf>) -> Result<usize> {
    let mut new = 0;
    for file in files {
        let real = file
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", file.display()))?;
        if seen.insert(real) {
            new += 1;
        }
    }
    Ok(new)
}

/// Files given on the command line are taken as they are; folders are searched.
fn extra_files(extra: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in extra {
        if path.is_dir() {
            files.extend(walk(path, Pick::NameOrMagic)?.0);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            bail!("{}: no such file or folder", path.display());
        }
    }
    Ok(files)
}

/// The files under `dir` that `pick` takes, and how many it left.
fn walk(dir: &Path, pick: Pick) -> Result<(Vec<PathBuf>, usize)> {
    let (mut found, mut skipped) = (Vec::new(), 0);
    let mut stack = vec![(dir.to_path_buf(), 0)];
    while let Some((folder, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&folder)
            .with_context(|| format!("cannot list {}", folder.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list {}", folder.display()))?
                .path();
            if path.is_dir() {
                if depth < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
            } else if path.is_file() && takes(pick, &path)? {
                found.push(path);
            } else {
                skipped += 1;
            }
        }
    }
    found.sort();
    Ok((found, skipped))
}

fn takes(pick: Pick, path: &Path) -> Result<bool> {
    Ok(match pick {
        Pick::Name => capture_name(path),
        Pick::Magic => capture_magic(path)?,
        Pick::NameOrMagic => capture_name(path) || capture_magic(path)?,
    })
}

fn capture_name(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase());
    name.is_some_and(|n| {
        [".pcap", ".pcapng", ".pcap.gz", ".cap"]
            .iter()
            .any(|e| n.ends_with(e))
    })
}

/// pcap (either byte order, micro- or nanosecond), pcapng, or gzip.
fn capture_magic(path: &Path) -> Result<bool> {
    let mut head = [0u8; 4];
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let n = file
        .read(&mut head)
        .with_context(|| format!("cannot read {}", path.display()))?;
    const MAGICS: [u32; 5] = [
        0xa1b2_c3d4,
        0xd4c3_b2a1,
        0xa1b2_3c4d,
        0x4d3c_b2a1,
        0x0a0d_0d0a,
    ];
    Ok((n == 4 && MAGICS.contains(&u32::from_be_bytes(head)))
        || (n >= 2 && head[..2] == [0x1f, 0x8b]))
}

/// The path as printed: relative to the workspace when inside it.
pub fn display(file: &Path) -> String {
    let root = root();
    let root = root.canonicalize().unwrap_or(root);
    file.strip_prefix(&root)
        .unwrap_or(file)
        .display()
        .to_string()
}

/// A folder name for the file's runs: its name with anything odd replaced.
pub fn slug(file: &Path) -> String {
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    name.unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}
