//! What a file's code declares and names: its `mod` items and every path in it.
//!
//! What: from a file's tokens (see `source`), the `mod name;` and `mod name { ... }`
//! items at module level (an inline module is a module of its own, so its `super::`
//! means the file's module), and every path with its segments, brace groups expanded:
//! `use crate::{a::b, c::{self, d}}` gives `crate::a::b`, `crate::c`, `crate::c::d`.
//! A path is written down whatever its first segment; which ones name a module of
//! the crate is decided by `graph`, which knows the modules.
//!
//! Why groups matter: `use super::{words, Style};` is how most of the report modules
//! name their siblings, and a scan that reads only `super::words` misses the edge.

use super::source::{matching_close, Tok, Token};

/// A `mod` item: in which inline module of the file (empty: the file's own module),
/// its name, whether its body is inline, where it is (byte offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModDecl {
    pub scope: Vec<String>,
    pub name: String,
    pub inline: bool,
    pub pos: usize,
}

/// A path in code: in which inline module of the file, its segments, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRef {
    pub scope: Vec<String>,
    pub segments: Vec<String>,
    pub pos: usize,
}

/// What one file declares and names.
#[derive(Debug, Default)]
pub struct FileItems {
    pub mods: Vec<ModDecl>,
    pub paths: Vec<PathRef>,
}

/// Read a file's (non-test) tokens.
pub fn scan(tokens: &[Token]) -> FileItems {
    let mut items = FileItems::default();
    // Inline modules open around the current token: name, brace depth outside it.
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        let scope = || open.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let body_depth = open.last().map_or(0, |&(_, d)| d + 1);
        if depth == body_depth {
            if let Some((decl, next)) = mod_item(tokens, i, scope()) {
                if decl.inline {
                    open.push((decl.name.clone(), depth));
                    depth += 1;
                }
                items.mods.push(decl);
                i = next;
                continue;
            }
        }
        if starts_path(tokens, i) {
            let mut found = Vec::new();
            i = path_tree(tokens, i, &[], &mut found);
            let scope = scope();
            items
                .paths
                .extend(found.into_iter().map(|(segments, pos)| PathRef {
                    scope: scope.clone(),
                    segments,
                    pos,
                }));
            continue;
        }
        if tokens[i].is_punct('{') {
            depth += 1;
        } else if tokens[i].is_punct('}') {
            depth = depth.saturating_sub(1);
            if open.last().is_some_and(|&(_, d)| d == depth) {
                open.pop();
            }
        }
        i += 1;
    }
    items
}

/// `mod name;` or `mod name {` at `i`: the declaration and the token after it.
fn mod_item(tokens: &[Token], i: usize, scope: Vec<String>) -> Option<(ModDecl, usize)> {
    if !tokens[i].is_ident("mod") {
        return None;
    }
    let name = tokens.get(i + 1)?.ident()?.to_string();
    let after = tokens.get(i + 2)?;
    let inline = after.is_punct('{');
    if !inline && !after.is_punct(';') {
        return None;
    }
    let decl = ModDecl {
        scope,
        name,
        inline,
        pos: tokens[i].pos,
    };
    Some((decl, i + 3))
}

/// An identifier followed by `::` that does not continue a path (`a::b` is read
/// from `a`, not again from `b`), and is not a macro's `$crate`.
fn starts_path(tokens: &[Token], i: usize) -> bool {
    let prev = i.checked_sub(1).and_then(|p| tokens.get(p));
    tokens[i].ident().is_some()
        && tokens.get(i + 1).is_some_and(|t| t.kind == Tok::Sep)
        && !prev.is_some_and(|p| p.kind == Tok::Sep || p.is_punct('$'))
}

/// Read a path (or use tree) at `i` under `prefix`; push each complete path with the
/// offset of its first token; return the index after it.
fn path_tree(
    tokens: &[Token],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let pos = tokens.get(i).map_or(0, |t| t.pos);
    let mut path = prefix.to_vec();
    while let Some(word) = tokens.get(i).and_then(Token::ident) {
        // In a group, `self` is the group's prefix itself: `use a::{self, b}`.
        if word != "self" || path.is_empty() {
            path.push(word.to_string());
        }
        let sep = tokens.get(i + 1).is_some_and(|t| t.kind == Tok::Sep);
        i += if sep { 2 } else { 1 };
        if !sep {
            break;
        }
    }
    match tokens.get(i) {
        Some(t) if t.is_punct('{') && i > 0 && tokens[i - 1].kind == Tok::Sep => {
            group(tokens, i, &path, out)
        }
        Some(t) if t.is_punct('{') && path.len() == prefix.len() => group(tokens, i, &path, out),
        _ => {
            if path.len() > prefix.len() || !prefix.is_empty() {
                out.push((path, pos));
            }
            i
        }
    }
}

/// A `{ tree, tree, ... }` group at `i` under `prefix`; the index after its `}`.
fn group(
    tokens: &[Token],
    i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let end = matching_close(tokens, i, '{', '}');
    let mut j = i + 1;
    while j + 1 < end {
        let before = j;
        j = path_tree(tokens, j, prefix, out);
        // Skip what follows the item (`as name`, `*`) up to its comma.
        while j + 1 < end && !tokens[j].is_punct(',') {
            j = matching_close(tokens, j, '{', '}').max(j + 1);
        }
        j = (j + 1).max(before + 1);
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::source::code_tokens;

    fn paths(src: &str) -> Vec<String> {
        scan(&code_tokens(src))
            .paths
            .iter()
            .map(|p| p.segments.join("::"))
            .collect()
    }

    #[test]
    fn plain_paths_are_read_once() {
        let got =
            paths("use crate::a::b; fn f() -> crate::x::Y { super::super::c::d(); self::e::F }");
        assert_eq!(
            got,
            [
                "crate::a::b",
                "crate::x::Y",
                "super::super::c::d",
                "self::e::F"
            ]
        );
    }

    #[test]
    fn brace_groups_are_expanded() {
        let got = paths("use super::{words, Style};");
        assert_eq!(got, ["super::words", "super::Style"]);
    }

    #[test]
    fn nested_groups_self_and_renames() {
        let got = paths("use crate::{a::b, c::{self, d as e, f::*}, g};");
        assert_eq!(
            got,
            [
                "crate::a::b",
                "crate::c",
                "crate::c::d",
                "crate::c::f",
                "crate::g"
            ]
        );
        let multi = paths("use crate::{\n    report::{\n        words,\n    },\n    x,\n};");
        assert_eq!(multi, ["crate::report::words", "crate::x"]);
    }

    #[test]
    fn generics_and_macros_end_a_path() {
        let got = paths("let v = crate::a::B::<T>::new(); $crate::m::f(); std::{io, fmt};");
        assert_eq!(got, ["crate::a::B", "std::io", "std::fmt"]);
    }

    #[test]
    fn mod_items_and_inline_scopes() {
        let items = scan(&code_tokens(
            "pub mod a;\nmod b {\n    use super::a::X;\n    pub mod c;\n}\nfn f() { mod local {} }\nuse crate::b::c;",
        ));
        let mods: Vec<_> = items
            .mods
            .iter()
            .map(|m| (m.scope.join("::"), m.name.as_str(), m.inline))
            .collect();
        assert_eq!(
            mods,
            [
                ("".into(), "a", false),
                ("".into(), "b", true),
                ("b".into(), "c", false)
            ]
        );
        let scopes: Vec<_> = items.paths.iter().map(|p| p.scope.join("::")).collect();
        assert_eq!(scopes, ["b", ""]);
    }
}
