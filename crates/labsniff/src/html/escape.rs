//! Escaping for HTML text and attribute values (also valid inside inline SVG), and
//! the one helper that writes a number with a fixed precision.

/// `text` for an HTML/SVG text node or a quoted attribute value: `&`, `<`, `>` and
/// both quotes escaped; control characters other than newline and tab dropped (they
/// are not allowed in XML and a capture's payload may hold any byte).
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    text_into(&mut out, text);
    out
}

/// [`text`], appended to `out`.
pub fn text_into(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(ch),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// At most `max` characters of `text`, with `…` when cut (for labels; the whole text
/// goes into a `<title>`).
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A coordinate with one decimal, `NaN`/infinite as 0 (never a broken attribute).
pub fn num(v: f64) -> String {
    if v.is_finite() {
        let r = (v * 10.0).round() / 10.0;
        // -0.04 rounds to -0: written as 0.
        if r == 0.0 {
            return "0".to_string();
        }
        format!("{r}")
    } else {
        "0".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            text(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn control_characters_are_dropped_but_newlines_kept() {
        assert_eq!(text("a\u{0}b\u{1b}[31mc\nd\te"), "ab[31mc\nd\te");
    }

    #[test]
    fn escaped_text_has_no_raw_markup() {
        for s in ["<", ">", "\"", "'", "&", "</svg>", "<!--", "]]>"] {
            let e = text(s);
            assert!(
                !e.contains('<') && !e.contains('>') && !e.contains('"'),
                "{e}"
            );
        }
    }

    #[test]
    fn shorten_cuts_with_an_ellipsis() {
        assert_eq!(shorten("hello", 10), "hello");
        assert_eq!(shorten("hello world", 6), "hello…");
        assert_eq!(shorten("héllo wörld", 6).chars().count(), 6);
    }

    #[test]
    fn numbers_are_finite() {
        assert_eq!(num(1.25), "1.3");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(-0.04), "0");
        assert_eq!(num(12.0), "12");
    }
}
