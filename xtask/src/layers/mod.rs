//! `cargo xtask layers [--edges] [--count-ancestor-edges] [--root DIR]`: the layering rules,
//! checked (a step of `cargo xtask test`).
//!
//! Why: the project's rules are "no import circles between the modules of a crate"
//! (a circle makes its modules one unit: none can be understood, tested or moved
//! alone) and "labfacts, the engine and fact model, depends on no renderer and no
//! program". Crate boundaries enforce the second for crates once it holds, and
//! cargo enforces no circles between crates; nothing else checks modules.
//!
//! What, for each lib and bin target of each workspace crate (from `cargo
//! metadata`): the module graph (`graph`: what counts as an edge, and why a module
//! naming its own ancestor does not), its circles with one `file:line` per edge, the
//! allow-list of known circles (`rules`, `xtask/layers-allow.txt`: it only shrinks),
//! and the crate rule for labfacts. The exit status is non-zero when there is a new
//! or changed circle, a stale allow-list line, or a rule break.
//!
//! `--count-ancestor-edges` counts child → ancestor edges too, to see what that rule
//! would find (the allow-list is written for the default rule, so it fails then).
//! `--edges` prints every edge with its first site. `--root DIR` checks another copy of the workspace.

mod graph;
mod paths;
mod rules;
mod source;

use anyhow::{bail, Result};
use graph::{Graph, Rules};
use rules::{Known, Package, Target};
use std::path::{Path, PathBuf};

const ALLOW_LIST: &str = "xtask/layers-allow.txt";

const USAGE: &str = "usage: cargo xtask layers [--edges] [--count-ancestor-edges] [--root DIR]";

#[derive(Debug)]
struct Options {
    rules: Rules,
    root: PathBuf,
    /// Print every edge with its first site, not only the circles'.
    edges: bool,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut opts = Options {
        rules: Rules::default(),
        root: crate::util::root(),
        edges: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--count-ancestor-edges" => opts.rules.count_ancestor_edges = true,
            "--edges" => opts.edges = true,
            "--root" => match it.next() {
                Some(dir) => opts.root = PathBuf::from(dir),
                None => bail!("--root needs a folder\n{USAGE}"),
            },
            other => bail!("unknown argument '{other}'\n{USAGE}"),
        }
    }
    Ok(opts)
}

pub fn main(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    let packages = rules::workspace(&opts.root)?;
    let allowed = rules::read_allow_list(&opts.root.join(ALLOW_LIST))?;
    println!("layers: module graphs (an edge: non-test code naming another module of the crate;");
    println!(
        "        a module naming its own ancestor is {})",
        ancestor_rule(opts.rules)
    );
    let mut found: Vec<Known> = Vec::new();
    for p in &packages {
        for t in &p.targets {
            let label = label(p, t);
            let g = graph::scan(&t.root, opts.rules)?;
            let circles = graph::circles(&g);
            print_target(&opts.root, &label, &g, &circles, &allowed);
            if opts.edges {
                print_edges(&opts.root, &g);
            }
            found.extend(circles.into_iter().map(|c| (label.clone(), c)));
        }
    }
    let (new, stale) = compare(&found, &allowed);
    report_allow_list(&new, &stale, found.len() - new.len());
    let breaks = check_crate_rule(&packages)?;
    let failures = new.len() + stale.len() + breaks;
    if failures > 0 {
        bail!("layers: {} new or changed circle(s), {} stale allow-list line(s), {breaks} crate rule break(s)", new.len(), stale.len());
    }
    println!("layers: ok");
    Ok(())
}

fn ancestor_rule(rules: Rules) -> &'static str {
    if rules.count_ancestor_edges {
        "counted (--count-ancestor-edges)"
    } else {
        "no edge"
    }
}

/// The crate's name for its lib or its only target, `crate/bin/name` for a bin
/// next to others.
fn label(p: &Package, t: &Target) -> String {
    if t.lib || p.targets.len() == 1 {
        p.name.clone()
    } else {
        format!("{}/bin/{}", p.name, t.name)
    }
}

fn print_target(root: &Path, label: &str, g: &Graph, circles: &[Vec<String>], allowed: &[Known]) {
    let verdict = match circles.len() {
        0 => "no circle".to_string(),
        n => format!("{n} circle(s)"),
    };
    println!(
        "  {label:<28} {:>3} modules {:>4} edges   {verdict}",
        g.modules.len(),
        g.edges.len()
    );
    for w in &g.warnings {
        println!("    warning: {w}");
    }
    for c in circles {
        let known = allowed.contains(&(label.to_string(), c.clone()));
        let status = if known {
            "known, to remove"
        } else {
            "NEW or changed"
        };
        println!("    circle ({status}): {}", c.join(", "));
        for ((from, to), site) in graph::circle_edges(g, c) {
            let file = site.file.strip_prefix(root).unwrap_or(&site.file);
            println!("      {from} -> {to}  {}:{}", file.display(), site.line);
        }
    }
}

fn print_edges(root: &Path, g: &Graph) {
    for ((from, to), site) in &g.edges {
        let file = site.file.strip_prefix(root).unwrap_or(&site.file);
        println!("    edge {from} -> {to}  {}:{}", file.display(), site.line);
    }
}

/// The circles found that are not on the list, and the listed ones not found.
fn compare(found: &[Known], allowed: &[Known]) -> (Vec<Known>, Vec<Known>) {
    let new = found
        .iter()
        .filter(|c| !allowed.contains(c))
        .cloned()
        .collect();
    let stale = allowed
        .iter()
        .filter(|c| !found.contains(c))
        .cloned()
        .collect();
    (new, stale)
}

fn report_allow_list(new: &[Known], stale: &[Known], known: usize) {
    println!(
        "circles: {known} known (on {ALLOW_LIST}, to remove), {} new or changed",
        new.len()
    );
    for (target, modules) in new {
        println!(
            "  NEW or changed: {target} {}  (remove the circle; the allow-list only shrinks)",
            modules.join(" ")
        );
    }
    for (target, modules) in stale {
        println!(
            "  gone: {target} {}  (delete its line from {ALLOW_LIST})",
            modules.join(" ")
        );
    }
}

/// Print the crate rule and its verdict; the number of breaks.
fn check_crate_rule(packages: &[Package]) -> Result<usize> {
    let v = rules::check_labfacts(packages)?;
    println!(
        "rule: labfacts depends on none of {} (its dependencies, the workspace crates they reach): {}",
        rules::NOT_IN_LABFACTS.join(", "),
        if v.breaks.is_empty() { "ok" } else { "BROKEN" }
    );
    println!("  labfacts' dependencies: {}", v.direct.join(", "));
    for b in &v.breaks {
        println!("  breaks it: {b}");
    }
    Ok(v.breaks.len())
}

#[cfg(test)]
mod tests;
