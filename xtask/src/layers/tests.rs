//! The whole scan on a small crate written to a temporary folder, with one circle
//! through a child module, and edges that must not count (a doc link, a comment, a
//! string, a test module's file, a child naming its parent).

use super::graph::{self, Rules};
use super::*;

const FILES: &[(&str, &str)] = &[
    (
        "lib.rs",
        "//! [`crate::d`] in a doc comment\npub mod a;\npub mod b;\npub mod c;\npub mod d;\npub mod e;\npub use a::A;\npub struct Error;\n",
    ),
    ("a.rs", "use crate::b::B;\npub struct A(B);\n"),
    ("b/mod.rs", "pub mod inner;\npub struct B;\npub fn f() {\n    inner::g();\n}\n"),
    (
        "b/inner.rs",
        "use super::super::{\n    c::C,\n    Error,\n};\nuse super::B;\npub fn g() -> Option<(C, B)> { None }\n",
    ),
    (
        "c.rs",
        "use crate::{a::A, d};\npub struct C(A);\n#[cfg(test)]\nmod tests {\n    use crate::e::E;\n}\n",
    ),
    (
        "d.rs",
        "// crate::c::C\npub const S: &str = \"crate::c\";\n#[cfg(test)]\nmod tests;\n",
    ),
    ("d/tests.rs", "use crate::c::C;\n"),
    ("e/mod.rs", "mod f;\npub struct E;\npub fn x() {\n    f::y();\n}\n"),
    ("e/f.rs", "pub fn y() -> super::E { super::E }\n"),
];

/// A fresh folder holding `FILES` under `src/`; removed on drop.
struct TempCrate(PathBuf);

impl TempCrate {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!("xtask-layers-{}-{nanos}", std::process::id()));
        for (name, text) in FILES {
            let file = dir.join("src").join(name);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, text).unwrap();
        }
        TempCrate(dir)
    }
}

impl Drop for TempCrate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_circle_through_a_child_module_is_found_with_its_sites() {
    let krate = TempCrate::new();
    let g = graph::scan(&krate.0.join("src/lib.rs"), Rules::default()).unwrap();
    let modules: Vec<&str> = g.modules.iter().map(String::as_str).collect();
    assert_eq!(
        modules,
        ["a", "b", "b::inner", "c", "crate", "d", "e", "e::f"]
    );
    assert_eq!(graph::circles(&g), [vec!["a", "b", "b::inner", "c"]]);
    let site = |from: &str, to: &str| {
        let s = &g.edges[&(from.to_string(), to.to_string())];
        format!(
            "{}:{}",
            s.file.strip_prefix(&krate.0).unwrap().display(),
            s.line
        )
    };
    assert_eq!(site("b", "b::inner"), "src/b/mod.rs:4");
    assert_eq!(site("b::inner", "c"), "src/b/inner.rs:2");
    assert_eq!(site("c", "d"), "src/c.rs:1");
    // Nothing from d (comment, string, test file), nothing to the root.
    assert!(
        g.edges.keys().all(|(f, t)| f != "d" && t != "crate"),
        "{:?}",
        g.edges.keys()
    );
}

#[test]
fn counting_ancestor_edges_finds_parent_child_circles_too() {
    let krate = TempCrate::new();
    let rules = Rules {
        count_ancestor_edges: true,
    };
    let g = graph::scan(&krate.0.join("src/lib.rs"), rules).unwrap();
    let circles = graph::circles(&g);
    assert_eq!(
        circles,
        [vec!["a", "b", "b::inner", "c", "crate"], vec!["e", "e::f"]]
    );
}

#[test]
fn new_and_gone_circles_against_the_allow_list() {
    let k = |t: &str, m: &[&str]| (t.to_string(), m.iter().map(|s| s.to_string()).collect());
    let found = vec![
        k("labsniff", &["output::plain", "report"]),
        k("xtask", &["a", "b"]),
    ];
    let allowed = vec![
        k("labsniff", &["output::plain", "report"]),
        k("labnet", &["x", "y"]),
    ];
    let (new, stale) = compare(&found, &allowed);
    assert_eq!(new, [k("xtask", &["a", "b"])]);
    assert_eq!(stale, [k("labnet", &["x", "y"])]);
}
