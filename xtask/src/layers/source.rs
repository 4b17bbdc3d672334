//! A Rust source file as the layering check reads it.
//!
//! What: the text with every comment (`//`, `///`, `//!`, nested `/* */`) and every
//! string, byte-string, raw-string and char literal blanked to spaces, then cut into
//! tokens (identifiers, `::`, single punctuation characters), then without the items
//! marked `#[cfg(test)]` (a `mod tests { ... }` block, a `mod tests;` declaration, a
//! test-only `fn` or `use`).
//!
//! Why: only code names a module. A doc comment's [`crate::x`] link, a message
//! text "super::x", or a test module's `use crate::x` must not make an edge. Blanking
//! keeps every byte offset, so a token's offset still gives its line in the file.

/// A token of cleaned source: where it starts (byte offset) and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub pos: usize,
    pub kind: Tok,
}

/// Identifiers (keywords included), the path separator, other punctuation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// `::`
    Sep,
    /// Any other character outside literals (numbers' digits included).
    Punct(char),
}

impl Token {
    pub fn is_ident(&self, word: &str) -> bool {
        matches!(&self.kind, Tok::Ident(w) if w == word)
    }
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Tok::Punct(c)
    }
    pub fn ident(&self) -> Option<&str> {
        match &self.kind {
            Tok::Ident(w) => Some(w),
            _ => None,
        }
    }
}

/// The tokens of a file's non-test code.
pub fn code_tokens(src: &str) -> Vec<Token> {
    without_test_items(tokenize(&blank_comments_and_literals(src)))
}

/// The 1-based line of a byte offset.
pub fn line_of(src: &str, pos: usize) -> usize {
    src.as_bytes()
        .iter()
        .take(pos)
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `src` with comments and literals replaced by spaces (newlines kept).
pub fn blank_comments_and_literals(src: &str) -> String {
    let bytes = src.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i < bytes.len() {
        let end = match literal_or_comment_end(bytes, i) {
            Some(end) => end,
            None => {
                i += skip_plain(bytes, i);
                continue;
            }
        };
        for b in &mut out[i..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
        i = end;
    }
    // Whole literals and comments were replaced (they start and end on ASCII
    // delimiters), so the text stays valid UTF-8; lossy only as a safety net.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// How many bytes at `i` are plain code: a whole identifier (so that the `r` of
/// `bar"` is never taken for a raw string), or one byte.
fn skip_plain(bytes: &[u8], i: usize) -> usize {
    if is_ident_byte(bytes[i]) {
        bytes[i..].iter().take_while(|&&b| is_ident_byte(b)).count()
    } else {
        1
    }
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// When a comment or literal starts at `i`: the offset just after it.
fn literal_or_comment_end(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = &bytes[i..];
    if rest.starts_with(b"//") {
        return Some(i + rest.iter().take_while(|&&b| b != b'\n').count());
    }
    if rest.starts_with(b"/*") {
        return Some(block_comment_end(bytes, i));
    }
    let after_ident = i == 0 || !is_ident_byte(bytes[i - 1]);
    match rest.first() {
        Some(b'"') => Some(string_end(bytes, i + 1)),
        Some(b'\'') => char_literal_end(bytes, i),
        Some(b'r' | b'b' | b'c') if after_ident => raw_string_end(bytes, i),
        _ => None,
    }
}

/// The end of a (nested) block comment starting at `i`.
fn block_comment_end(bytes: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j < bytes.len() {
        if bytes[j..].starts_with(b"/*") {
            depth += 1;
            j += 2;
        } else if bytes[j..].starts_with(b"*/") {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    bytes.len()
}

/// The end of a string whose contents start at `j` (escapes honoured).
fn string_end(bytes: &[u8], mut j: usize) -> usize {
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// A char or byte literal at `i` ('a', '\n', '\'', '\u{1F600}', 'é'); `None` for a
/// lifetime or a label ('a, 'static).
fn char_literal_end(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i + 1)? {
        b'\\' => {
            let from = i + 3;
            let close = bytes.get(from..)?.iter().position(|&b| b == b'\'')?;
            Some(from + close + 1)
        }
        &first => {
            let width = utf8_width(first);
            (bytes.get(i + 1 + width) == Some(&b'\'')).then_some(i + 2 + width)
        }
    }
}

fn utf8_width(first: u8) -> usize {
    match first {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// A literal with a prefix at `i`: `b"..."`, `c"..."`, `r"..."`, `r#"..."#`,
/// `br##"..."##`, `b'x'`. `None` when the letters start an identifier.
fn raw_string_end(bytes: &[u8], i: usize) -> Option<usize> {
    let prefix = bytes[i..].iter().take_while(|&&b| is_ident_byte(b)).count();
    let word = &bytes[i..i + prefix];
    let j = i + prefix;
    match (word, bytes.get(j)) {
        (b"b" | b"c", Some(b'"')) => Some(string_end(bytes, j + 1)),
        (b"b", Some(b'\'')) => char_literal_end(bytes, j),
        (b"r" | b"br" | b"cr", Some(b'"' | b'#')) => {
            let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
            if bytes.get(j + hashes) != Some(&b'"') {
                return None; // a raw identifier, r#type
            }
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let body = j + hashes + 1;
            let at = bytes[body..].windows(close.len()).position(|w| w == close);
            Some(at.map_or(bytes.len(), |at| body + at + close.len()))
        }
        _ => None,
    }
}

/// Cleaned text to tokens.
pub fn tokenize(code: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = code.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let kind = if c.is_alphanumeric() || c == '_' {
            let mut word = String::from(c);
            while let Some(&(_, n)) = chars.peek() {
                if !(n.is_alphanumeric() || n == '_') {
                    break;
                }
                word.push(n);
                chars.next();
            }
            if c.is_ascii_digit() {
                Tok::Punct('0')
            } else {
                Tok::Ident(word)
            }
        } else if c == ':' && chars.peek().map(|&(_, n)| n) == Some(':') {
            chars.next();
            Tok::Sep
        } else {
            Tok::Punct(c)
        };
        tokens.push(Token { pos, kind });
    }
    tokens
}

/// The tokens without the items under `#[cfg(test)]` (and without the whole file
/// when it says `#![cfg(test)]`).
pub fn without_test_items(tokens: Vec<Token>) -> Vec<Token> {
    let mut kept = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let Some(inner) = cfg_test_at(&tokens, i) {
            if inner {
                return Vec::new();
            }
            i = item_end(&tokens, attribute_end(&tokens, i));
            continue;
        }
        kept.push(tokens[i].clone());
        i += 1;
    }
    kept
}

/// At `i`, `#[cfg(test)]` (`Some(false)`) or `#![cfg(test)]` (`Some(true)`).
fn cfg_test_at(tokens: &[Token], i: usize) -> Option<bool> {
    let t = |k: usize| tokens.get(i + k);
    if !t(0)?.is_punct('#') {
        return None;
    }
    let inner = t(1)?.is_punct('!');
    let s = if inner { 2 } else { 1 };
    let shape = t(s)?.is_punct('[')
        && t(s + 1)?.is_ident("cfg")
        && t(s + 2)?.is_punct('(')
        && t(s + 3)?.is_ident("test")
        && t(s + 4)?.is_punct(')')
        && t(s + 5)?.is_punct(']');
    shape.then_some(inner)
}

/// Just after the attribute starting at `i` and any attributes that follow it.
fn attribute_end(tokens: &[Token], mut i: usize) -> usize {
    while tokens.get(i).is_some_and(|t| t.is_punct('#')) {
        i += 1;
        if tokens.get(i).is_some_and(|t| t.is_punct('!')) {
            i += 1;
        }
        i = matching_close(tokens, i, '[', ']');
    }
    i
}

/// Keywords that start an item or statement ending at `;` or at its `{ ... }`
/// (where a `,` at depth 0 is inside generics, not the end).
const ITEM_KEYWORDS: &[&str] = &[
    "pub",
    "fn",
    "mod",
    "use",
    "impl",
    "struct",
    "enum",
    "union",
    "const",
    "static",
    "type",
    "trait",
    "extern",
    "unsafe",
    "async",
    "macro_rules",
    "let",
];

/// Just after the item starting at `i`: its `;` outside brackets, or its `{ ... }`.
/// Anything else under the attribute (a field, a match arm, an expression) also
/// ends at a `,` outside brackets or before the bracket that closes around it.
fn item_end(tokens: &[Token], mut i: usize) -> usize {
    let item = tokens
        .get(i)
        .and_then(Token::ident)
        .is_some_and(|w| ITEM_KEYWORDS.contains(&w));
    let mut depth = 0usize;
    while let Some(t) = tokens.get(i) {
        match &t.kind {
            Tok::Punct('(' | '[') => depth += 1,
            Tok::Punct(')' | ']' | '}') if depth == 0 => return i,
            Tok::Punct(')' | ']') => depth -= 1,
            Tok::Punct(';') if depth == 0 => return i + 1,
            Tok::Punct(',') if depth == 0 && !item => return i + 1,
            Tok::Punct('{') if depth == 0 => return matching_close(tokens, i, '{', '}'),
            _ => {}
        }
        i += 1;
    }
    i
}

/// Just after the bracket that closes the one at `i` (`i` itself when no `open`).
pub fn matching_close(tokens: &[Token], i: usize, open: char, close: char) -> usize {
    if !tokens.get(i).is_some_and(|t| t.is_punct(open)) {
        return i;
    }
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(i) {
        if t.is_punct(open) {
            depth += 1;
        } else if t.is_punct(close) {
            depth -= 1;
            if depth == 0 {
                return k + 1;
            }
        }
    }
    tokens.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idents(src: &str) -> Vec<String> {
        code_tokens(src)
            .iter()
            .filter_map(|t| t.ident().map(String::from))
            .collect()
    }

    #[test]
    fn comments_and_literals_are_blanked_with_offsets_kept() {
        let src =
            "a // crate::x\n/* /* super::y */ */ b \"crate::z\" r#\"q\"#\n/// [`crate::w`]\nc";
        let clean = blank_comments_and_literals(src);
        assert_eq!(clean.len(), src.len());
        assert_eq!(clean.lines().count(), src.lines().count());
        assert!(!clean.contains("crate") && !clean.contains("super"));
        assert_eq!(idents(src), ["a", "b", "c"]);
    }

    #[test]
    fn char_literals_are_not_lifetimes() {
        let src =
            "fn f<'a>(x: &'a str) { let q = '\"'; let b = b'{'; let e = '\\''; crate::m::g() }";
        let clean = blank_comments_and_literals(src);
        assert!(clean.contains("'a str"), "lifetimes stay: {clean}");
        assert!(
            !clean.contains("b'{'"),
            "a brace in a byte literal is blanked"
        );
        assert!(
            clean.contains("crate::m::g"),
            "code after the literals stays: {clean}"
        );
    }

    #[test]
    fn raw_strings_and_raw_identifiers() {
        let src = "let s = r##\"a \"# crate::x\"##; let r#type = 1; br\"crate::y\"; bar(\"x\")";
        let clean = blank_comments_and_literals(src);
        assert!(!clean.contains("crate"), "{clean}");
        assert!(
            clean.contains("r#type") && clean.contains("bar("),
            "{clean}"
        );
    }

    #[test]
    fn test_items_are_removed() {
        let src = "use crate::a;\n#[cfg(test)]\n#[allow(clippy::unwrap_used)]\nmod tests {\n use crate::b;\n}\n\
                   #[cfg(test)]\nmod more;\n#[cfg(test)]\nfn helper() -> [u8; 2] { crate::c::f() }\nuse crate::d;";
        assert_eq!(idents(src), ["use", "crate", "a", "use", "crate", "d"]);
        assert!(idents("#![cfg(test)]\nuse crate::a;").is_empty());
        let fields =
            "struct S {\n    #[cfg(test)]\n    probe: crate::t::P,\n    kept: crate::k::K,\n}";
        assert_eq!(idents(fields), ["struct", "S", "kept", "crate", "k", "K"]);
        let generic = "#[cfg(test)]\nfn h<A, B>(a: A) -> B { crate::t::f(a) }\nuse crate::k;";
        assert_eq!(idents(generic), ["use", "crate", "k"]);
    }

    #[test]
    fn lines_of_offsets() {
        let src = "a\nb\nc";
        assert_eq!(line_of(src, 0), 1);
        assert_eq!(line_of(src, 4), 3);
    }
}
