//! One crate target's module graph, and its circles.
//!
//! What: from a target's root file (`lib.rs`, `main.rs`, `src/bin/x.rs`) the module
//! tree is followed through its `mod` items (`a/b.rs` or `a/b/mod.rs` is `a::b`; an
//! inline `mod x { ... }` is a module too; a `#[cfg(test)]` module is not). A module
//! depends on another when its non-test code names it: `crate::a::b::f`,
//! `super::b` (from the module's parent; `super::super::` climbs further), `self::c`,
//! or a bare `c::f` where `c` is one of its own child modules; `use` groups count
//! item by item. A path names the longest prefix of it that is a module.
//!
//! The rule for ancestors: a module naming one of its own ancestors (`super::Style`
//! from `report::words`, `crate::Error` from anywhere) is no edge, while a parent
//! naming its child's items (`pub use tcp_flags::Flags;`, `words::wrap(..)`) is one.
//! A parent holding what its children share, and declaring and using those
//! children, is how a Rust module tree is built; nobody would break that up. With
//! those edges counted (`cargo xtask layers --count-ancestor-edges`) this workspace
//! has 15 circles instead of 5, and each of the 10 more is a parent with its own
//! descendants: the crate root of labproto with 6 of its modules (all name
//! `crate::Error`), labnet's root and `udp`, six `mod.rs` parents in labfacts, and
//! the circle worth removing, labsniff's `output::plain` and `report`, grows into one
//! of 15 modules with all of `report`'s children. Circles between siblings, cousins,
//! or through a parent to its child and on to another subtree are all still found.
//! The Python prototype (`modgraph.py`) had the same rule.
//!
//! Circles: Tarjan's strongly connected components; a component of more than one
//! module is a circle. For each edge one `file:line` is kept, the first reference.

use super::paths::{self, FileItems, ModDecl};
use super::source;
use anyhow::{bail, Context, Result};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// More module files than any crate here has, by far.
const MAX_FILES: usize = 5000;

/// Where a module names another: the first place seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub file: PathBuf,
    pub line: usize,
}

/// One target's modules (`crate` is the root, others `a::b`) and edges.
#[derive(Debug, Default)]
pub struct Graph {
    pub modules: BTreeSet<String>,
    /// (from, to) → the first reference.
    pub edges: BTreeMap<(String, String), Site>,
    /// Declared modules whose file is missing (a `#[path]`, a cfg'd-out platform file).
    pub warnings: Vec<String>,
}

/// Options of the scan.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// Count a module naming its own ancestor (off: see the module doc).
    pub count_ancestor_edges: bool,
}

/// A file read: its module, where its children's files are, what it holds.
struct ReadFile {
    module: Vec<String>,
    file: PathBuf,
    text: String,
    items: FileItems,
}

/// Build the module graph of the target whose root file is `root`.
pub fn scan(root: &Path, rules: Rules) -> Result<Graph> {
    let mut graph = Graph::default();
    let files = read_tree(root, &mut graph)?;
    for f in &files {
        let children = children_by_scope(&f.items.mods);
        for r in &f.items.paths {
            let mut from = f.module.clone();
            from.extend(r.scope.iter().cloned());
            let kids = children.get(&r.scope).cloned().unwrap_or_default();
            let Some(to) = resolve(&from, &r.segments, &kids, &graph.modules) else {
                continue;
            };
            if !counts(&from, &to, rules) {
                continue;
            }
            if let Entry::Vacant(e) = graph.edges.entry((name(&from), name(&to))) {
                e.insert(Site {
                    file: f.file.clone(),
                    line: source::line_of(&f.text, r.pos),
                });
            }
        }
    }
    Ok(graph)
}

/// Follow the `mod` items from the root file; every module is added to `graph`.
fn read_tree(root: &Path, graph: &mut Graph) -> Result<Vec<ReadFile>> {
    let root_dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut queue = vec![(root.to_path_buf(), Vec::new(), root_dir)];
    let mut files = Vec::new();
    // Bounded: each `mod` item is followed once, and a cap stops a symlink loop.
    while let Some((file, module, dir)) = queue.pop() {
        if files.len() >= MAX_FILES {
            bail!("{}: more than {MAX_FILES} module files", root.display());
        }
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let items = paths::scan(&source::code_tokens(&text));
        graph.modules.insert(name(&module));
        for decl in &items.mods {
            let mut path = module.clone();
            path.extend(decl.scope.iter().cloned());
            path.push(decl.name.clone());
            if decl.inline {
                graph.modules.insert(name(&path));
                continue;
            }
            let child_dir = decl.scope.iter().fold(dir.clone(), |d, s| d.join(s));
            match child_file(&child_dir, &decl.name) {
                Some(f) => queue.push((f, path, child_dir.join(&decl.name))),
                None => graph.warnings.push(missing(&file, &text, decl)),
            }
        }
        files.push(ReadFile {
            module,
            file,
            text,
            items,
        });
    }
    Ok(files)
}

/// `dir/name.rs` or `dir/name/mod.rs`.
fn child_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|f| f.is_file())
}

fn missing(file: &Path, text: &str, decl: &ModDecl) -> String {
    format!(
        "{}:{}: no file for `mod {}` (a #[path] or a platform's module?), not followed",
        file.display(),
        source::line_of(text, decl.pos),
        decl.name
    )
}

/// The child module names of each inline scope of a file (the file's own: `[]`).
fn children_by_scope(mods: &[ModDecl]) -> BTreeMap<Vec<String>, Vec<String>> {
    let mut by_scope: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for m in mods {
        by_scope
            .entry(m.scope.clone())
            .or_default()
            .push(m.name.clone());
    }
    by_scope
}

/// The module a path written in module `from` names, when it names one of this
/// crate's: the longest prefix of the full path that is a module.
pub fn resolve(
    from: &[String],
    segments: &[String],
    children: &[String],
    modules: &BTreeSet<String>,
) -> Option<Vec<String>> {
    let first = segments.first()?.as_str();
    let full: Vec<String> = match first {
        "crate" => segments[1..].to_vec(),
        "self" => [from, &segments[1..]].concat(),
        "super" => {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            let base = from.get(..from.len().checked_sub(ups)?)?;
            [base, &segments[ups..]].concat()
        }
        _ if children.iter().any(|c| c == first) => [from, segments].concat(),
        _ => return None,
    };
    (0..=full.len())
        .rev()
        .map(|k| full[..k].to_vec())
        .find(|p| modules.contains(&name(p)))
}

/// Whether an edge from `from` to `to` is counted (never to itself; to an ancestor
/// only when the rules say so).
fn counts(from: &[String], to: &[String], rules: Rules) -> bool {
    let ancestor = to.len() < from.len() && from.starts_with(to);
    from != to && (rules.count_ancestor_edges || !ancestor)
}

/// `crate` for the root, `a::b` otherwise.
pub fn name(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_string()
    } else {
        path.join("::")
    }
}

/// The circles: each strongly connected component of more than one module, sorted.
pub fn circles(graph: &Graph) -> Vec<Vec<String>> {
    let nodes: Vec<&String> = graph.modules.iter().collect();
    let index: BTreeMap<&String, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let mut adj = vec![Vec::new(); nodes.len()];
    for (from, to) in graph.edges.keys() {
        if let (Some(&f), Some(&t)) = (index.get(from), index.get(to)) {
            adj[f].push(t);
        }
    }
    let mut found: Vec<Vec<String>> = strongly_connected(&adj)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| {
            let mut names: Vec<String> = c.iter().map(|&i| nodes[i].clone()).collect();
            names.sort();
            names
        })
        .collect();
    found.sort();
    found
}

/// Tarjan's algorithm on an adjacency list: the components, each a list of nodes.
pub fn strongly_connected(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut t = Tarjan {
        adj,
        index: vec![None; adj.len()],
        low: vec![0; adj.len()],
        on_stack: vec![false; adj.len()],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..adj.len() {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.components
}

struct Tarjan<'a> {
    adj: &'a [Vec<usize>],
    index: Vec<Option<usize>>,
    low: Vec<usize>,
    on_stack: Vec<bool>,
    stack: Vec<usize>,
    next: usize,
    components: Vec<Vec<usize>>,
}

impl Tarjan<'_> {
    /// Recursive: the depth is bounded by the number of modules (a few hundred).
    fn visit(&mut self, v: usize) {
        self.index[v] = Some(self.next);
        self.low[v] = self.next;
        self.next += 1;
        self.stack.push(v);
        self.on_stack[v] = true;
        for &w in self.adj[v].iter() {
            match self.index[w] {
                None => {
                    self.visit(w);
                    self.low[v] = self.low[v].min(self.low[w]);
                }
                Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(self.low[v]) == self.index[v] {
            let mut component = Vec::new();
            while let Some(w) = self.stack.pop() {
                self.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

/// The edges between the modules of one circle, with their sites.
pub fn circle_edges<'g>(
    graph: &'g Graph,
    circle: &[String],
) -> Vec<(&'g (String, String), &'g Site)> {
    graph
        .edges
        .iter()
        .filter(|((f, t), _)| circle.contains(f) && circle.contains(t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A path's resolution, written as text.
    fn resolve_text(from: &str, path: &str, children: &[&str], modules: &[&str]) -> Option<String> {
        let split = |s: &str| -> Vec<String> {
            if s.is_empty() {
                Vec::new()
            } else {
                s.split("::").map(String::from).collect()
            }
        };
        let mods: BTreeSet<String> = modules.iter().map(|m| m.to_string()).collect();
        let kids: Vec<String> = children.iter().map(|c| c.to_string()).collect();
        resolve(&split(from), &split(path), &kids, &mods).map(|p| name(&p))
    }

    const MODS: &[&str] = &[
        "crate",
        "report",
        "report::words",
        "report::no_lab",
        "output",
        "output::plain",
    ];

    #[test]
    fn crate_paths_name_the_longest_module_prefix() {
        let r = |from, path| resolve_text(from, path, &[], MODS);
        assert_eq!(
            r("output::plain", "crate::report::words::wrap").as_deref(),
            Some("report::words")
        );
        assert_eq!(
            r("output::plain", "crate::report::Style").as_deref(),
            Some("report")
        );
        assert_eq!(r("output::plain", "crate::Error").as_deref(), Some("crate"));
        assert_eq!(r("output", "std::fmt::Write"), None);
    }

    #[test]
    fn super_and_self_are_relative_to_the_module() {
        let r = |from, path| resolve_text(from, path, &[], MODS);
        assert_eq!(
            r("report::words", "super::no_lab::f").as_deref(),
            Some("report::no_lab")
        );
        assert_eq!(
            r("report::words", "super::Style").as_deref(),
            Some("report")
        );
        assert_eq!(
            r("report::words", "super::super::output::plain").as_deref(),
            Some("output::plain")
        );
        assert_eq!(
            r("report", "self::words::X").as_deref(),
            Some("report::words")
        );
        assert_eq!(r("report", "super::super::x"), None, "above the root");
    }

    #[test]
    fn a_bare_path_names_a_child_only() {
        let r = |from, path, kids: &[&str]| resolve_text(from, path, kids, MODS);
        assert_eq!(
            r("report", "words::wrap", &["words"]).as_deref(),
            Some("report::words")
        );
        assert_eq!(r("report", "fmt::Write", &["words"]), None);
    }

    #[test]
    fn edges_to_ancestors_are_left_out_unless_asked() {
        let s = |v: &str| v.split("::").map(String::from).collect::<Vec<_>>();
        let default = Rules::default();
        let all = Rules {
            count_ancestor_edges: true,
        };
        assert!(!counts(&s("report::words"), &s("report"), default));
        assert!(counts(&s("report::words"), &s("report"), all));
        assert!(counts(&s("report"), &s("report::words"), default));
        assert!(counts(&s("report::words"), &s("report::no_lab"), default));
        assert!(!counts(&s("report"), &s("report"), all));
    }

    #[test]
    fn tarjan_finds_each_circle() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 → 4 → 3, 5 alone, 6 → 6 (a self edge is no circle).
        let adj = vec![
            vec![1],
            vec![2],
            vec![0, 3],
            vec![4],
            vec![3],
            vec![],
            vec![6],
        ];
        let mut comps: Vec<Vec<usize>> = strongly_connected(&adj)
            .into_iter()
            .map(|mut c| {
                c.sort();
                c
            })
            .filter(|c| c.len() > 1)
            .collect();
        comps.sort();
        assert_eq!(comps, [vec![0, 1, 2], vec![3, 4]]);
        assert_eq!(strongly_connected(&adj).len(), 4);
    }
}
