//! The workspace as cargo describes it, the crate rule, and the allow-list.
//!
//! What: `cargo metadata --no-deps` gives the workspace crates, their targets (each
//! lib and bin target is its own module tree) and their declared dependencies. The
//! crate rule: labfacts, the engine and fact model, depends on no renderer, no
//! program and no terminal output (labsniff, labnet, clap, comfy-table, indicatif),
//! neither directly nor through another workspace crate, nor in its tests.
//!
//! The allow-list (`xtask/layers-allow.txt`) names the circles known when the check
//! was added, being removed: one line per circle, the target then its modules. A
//! circle on the list passes (printed as known); any other circle, or a listed one
//! that changed, fails; a listed circle that is gone fails too, until its line is
//! deleted, so the list only shrinks.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What labfacts must not depend on.
pub const NOT_IN_LABFACTS: &[&str] = &["labsniff", "labnet", "clap", "comfy-table", "indicatif"];

/// A workspace crate.
#[derive(Debug)]
pub struct Package {
    pub name: String,
    /// Dependency names with their kind (`normal`, `dev`, `build`).
    pub deps: Vec<(String, String)>,
    /// Lib and bin targets: name, whether a lib, root file.
    pub targets: Vec<Target>,
}

/// A lib or bin target and its root file.
#[derive(Debug)]
pub struct Target {
    pub name: String,
    pub lib: bool,
    pub root: PathBuf,
}

/// The workspace crates, in the order of `members`.
pub fn workspace(root: &Path) -> Result<Vec<Package>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .output()
        .context("cannot run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: Value = serde_json::from_slice(&out.stdout).context("cargo metadata: not JSON")?;
    let members: Vec<&str> = strings(&meta["workspace_members"]);
    let packages = meta["packages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut found: Vec<(usize, Package)> = packages
        .iter()
        .filter_map(|p| {
            let at = members.iter().position(|m| Some(*m) == p["id"].as_str())?;
            Some((at, package(p)))
        })
        .collect();
    found.sort_by_key(|(at, _)| *at);
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn package(p: &Value) -> Package {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let deps = p["dependencies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let targets = p["targets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    Package {
        name: text(&p["name"]),
        deps: deps
            .iter()
            .map(|d| {
                (
                    text(&d["name"]),
                    d["kind"].as_str().unwrap_or("normal").to_string(),
                )
            })
            .collect(),
        targets: targets
            .iter()
            .filter_map(|t| {
                let kinds = strings(&t["kind"]);
                let lib = kinds.iter().any(|k| k.ends_with("lib"));
                (lib || kinds.contains(&"bin")).then(|| Target {
                    name: text(&t["name"]),
                    lib,
                    root: PathBuf::from(text(&t["src_path"])),
                })
            })
            .collect(),
    }
}

/// The crate rule's verdict: labfacts' direct normal dependencies, and the
/// forbidden crates reached (with the crate that declares each).
#[derive(Debug)]
pub struct Verdict {
    pub direct: Vec<String>,
    pub breaks: Vec<String>,
}

/// Check that labfacts depends on none of `NOT_IN_LABFACTS`: its dependencies of
/// every kind, then the normal and build dependencies of the workspace crates they
/// reach.
pub fn check_labfacts(packages: &[Package]) -> Result<Verdict> {
    let find = |name: &str| packages.iter().find(|p| p.name == name);
    let Some(labfacts) = find("labfacts") else {
        bail!("no labfacts crate in the workspace");
    };
    let mut breaks = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut todo: Vec<(&Package, bool)> = vec![(labfacts, true)];
    // Bounded: each workspace crate is expanded once.
    while let Some((p, all_kinds)) = todo.pop() {
        if !seen.insert(p.name.clone()) {
            continue;
        }
        for (dep, kind) in &p.deps {
            if !all_kinds && kind == "dev" {
                continue;
            }
            if NOT_IN_LABFACTS.contains(&dep.as_str()) {
                breaks.insert(format!("{dep} ({kind} dependency of {})", p.name));
            }
            if let Some(member) = find(dep) {
                todo.push((member, false));
            }
        }
    }
    let direct = labfacts
        .deps
        .iter()
        .filter(|(_, k)| k == "normal")
        .map(|(n, _)| n.clone())
        .collect();
    Ok(Verdict {
        direct,
        breaks: breaks.into_iter().collect(),
    })
}

/// A circle as the allow-list writes it: the target, its modules sorted.
pub type Known = (String, Vec<String>);

/// The allow-list: `target module module ...` per line; `#` starts a comment.
pub fn read_allow_list(file: &Path) -> Result<Vec<Known>> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    Ok(parse_allow_list(&text))
}

pub fn parse_allow_list(text: &str) -> Vec<Known> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .filter_map(|l| {
            let mut words = l.split_whitespace().map(String::from);
            let target = words.next()?;
            let mut modules: Vec<String> = words.collect();
            modules.sort();
            Some((target, modules))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, deps: &[(&str, &str)]) -> Package {
        Package {
            name: name.into(),
            deps: deps
                .iter()
                .map(|(n, k)| (n.to_string(), k.to_string()))
                .collect(),
            targets: Vec::new(),
        }
    }

    #[test]
    fn a_renderer_reached_through_a_workspace_crate_breaks_the_rule() {
        let ok = [
            pkg(
                "labfacts",
                &[("labproto", "normal"), ("labfixtures", "dev")],
            ),
            pkg("labproto", &[("thiserror", "normal"), ("clap", "dev")]),
            pkg("labfixtures", &[("labproto", "normal")]),
        ];
        let v = check_labfacts(&ok).unwrap();
        assert!(v.breaks.is_empty(), "{:?}", v.breaks);
        assert_eq!(v.direct, ["labproto"]);
        let bad = [
            pkg("labfacts", &[("labfixtures", "dev")]),
            pkg("labfixtures", &[("comfy-table", "normal")]),
        ];
        let v = check_labfacts(&bad).unwrap();
        assert_eq!(v.breaks, ["comfy-table (normal dependency of labfixtures)"]);
    }

    #[test]
    fn allow_list_lines() {
        let list = parse_allow_list("# known\nlabsniff report output::plain  # to remove\n\n");
        assert_eq!(
            list,
            [(
                "labsniff".into(),
                vec!["output::plain".into(), "report".into()]
            )]
        );
    }
}
