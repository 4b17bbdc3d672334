//! The report's layout: bullets and wrapped lines at [`WRAP`] columns, rows whose text
//! goes on under its own column, padding to a width.

/// Report lines are wrapped to this many columns (a bullet's words, not tables).
pub const WRAP: usize = 100;

/// Leads of [`columns_into`] at most this many characters wide keep the text beside them.
const LEAD_MAX: usize = 54;

/// Indents of continuation lines are cut from here (no allocation per row).
const SPACES: &str = "                                                                ";

/// Where [`columns_into`] continues a text that starts on the line after a wide lead.
const COLUMNS_INDENT: &str = "          ";

/// A row that starts with `lead` (frame columns) and goes on with `text` wrapped under
/// its own column, appended to `out`; when `lead` is too wide, `text` starts on the
/// next line instead.
pub fn columns_into(out: &mut String, lead: &str, text: &str) {
    let width = chars(lead);
    if width <= LEAD_MAX {
        // SPACES is ASCII and longer than LEAD_MAX, so this slice is `width` characters.
        let indent = SPACES.get(..width).unwrap_or(SPACES);
        return wrap_after(out, lead, width, indent, text);
    }
    out.push_str(lead.trim_end());
    out.push('\n');
    wrap_into(out, COLUMNS_INDENT, COLUMNS_INDENT, text);
}

/// [`wrap_into`] with continuation lines indented as wide as `first`.
pub fn wrap_under(out: &mut String, first: &str, text: &str) {
    let width = chars(first);
    match SPACES.get(..width) {
        Some(indent) => wrap_after(out, first, width, indent, text),
        None => wrap_after(out, first, width, &" ".repeat(width), text),
    }
}

/// `    - text`, wrapped at [`WRAP`] columns with continuation lines under the text.
pub fn bullet(text: &str) -> String {
    wrap("    - ", "      ", text)
}

/// [`bullet`], appended to `out`.
pub fn bullet_into(out: &mut String, text: &str) {
    wrap_into(out, "    - ", "      ", text);
}

/// `text` wrapped after `first` (first line) and `rest` (continuations), newline-ended.
pub fn wrap(first: &str, rest: &str, text: &str) -> String {
    let mut out = String::new();
    wrap_into(&mut out, first, rest, text);
    out
}

/// [`wrap`], appended to `out`: the words (split at spaces, empty ones dropped) joined
/// by one space, a new line started with `rest` when the next word would pass [`WRAP`]
/// characters, every line's end trimmed. The line is written in place and its width
/// kept as it grows, rather than counted again for every word.
pub fn wrap_into(out: &mut String, first: &str, rest: &str, text: &str) {
    wrap_after(out, first, chars(first), rest, text);
}

/// [`wrap_into`] for a `first` known to be `width` characters wide.
fn wrap_after(out: &mut String, first: &str, width: usize, rest: &str, text: &str) {
    let mut start = out.len();
    out.push_str(first);
    let mut width = width;
    let mut empty = true;
    for (word, w) in Words(text) {
        if !empty && width + 1 + w > WRAP {
            end_line(out, start);
            start = out.len();
            out.push_str(rest);
            width = chars(rest);
            empty = true;
        }
        if !empty {
            out.push(' ');
            width += 1;
        }
        out.push_str(word);
        width += w;
        empty = false;
    }
    end_line(out, start);
}

/// The words of a text split at spaces, empty ones dropped, each with its width in
/// characters: one pass over the bytes (report words are short, and a search per
/// word costs more than the word).
struct Words<'a>(&'a str);

impl<'a> Iterator for Words<'a> {
    type Item = (&'a str, usize);

    fn next(&mut self) -> Option<(&'a str, usize)> {
        let bytes = self.0.as_bytes();
        let start = bytes.iter().position(|&b| b != b' ')?;
        let mut end = start;
        let mut width = 0;
        for &b in bytes.get(start..).unwrap_or_default() {
            if b == b' ' {
                break;
            }
            // A character per byte that does not continue a UTF-8 sequence.
            width += usize::from(b & 0xC0 != 0x80);
            end += 1;
        }
        // Spaces are ASCII, so `start` and `end` are character boundaries.
        let word = self.0.get(start..end)?;
        self.0 = self.0.get(end..).unwrap_or_default();
        Some((word, width))
    }
}

/// Pads what was written to `out` since byte `start` with spaces to `width`
/// characters, as `{:<width$}` does.
pub fn pad_from(out: &mut String, start: usize, width: usize) {
    let have = out.get(start..).map_or(0, chars);
    for _ in have..width {
        out.push(' ');
    }
}

/// Trims the end of the line that starts at byte `start` of `out`, and ends it.
fn end_line(out: &mut String, start: usize) {
    let kept = out.get(start..).map_or(0, |line| line.trim_end().len());
    out.truncate(start + kept);
    out.push('\n');
}

/// The characters of `s` (its bytes when it is ASCII, as most words are).
fn chars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}
