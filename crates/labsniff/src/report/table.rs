//! The conversations table: who talked to whom, how, how much, and how it ended.
//!
//! A capture can hold thousands of conversations, and comfy-table builds several
//! `String`s per cell (content, alignment, padding, line). So the table is written
//! here directly, as comfy-table lays it out with the preset used (no borders, one
//! space of padding each side, columns as wide as their widest cell, some right
//! aligned), whenever every cell is made only of characters one column wide whose
//! width comfy-table measures the same (printable ASCII, `→`, `µ`); anything else
//! (an address with other characters, say) goes through comfy-table itself.

use super::{words, Gathered, Style};
use comfy_table::{presets, CellAlignment, ContentArrangement, Table};
use std::fmt::Write as _;

const HEADER: [&str; COLUMNS] = [
    "conv",
    "client",
    "server",
    "transport",
    "proto",
    "state",
    "duration",
    "frames c→s",
    "frames s→c",
    "bytes c→s",
    "bytes s→c",
    "msgs c→s",
    "msgs s→c",
];
const COLUMNS: usize = 13;
/// The right-aligned columns: the numbers.
const RIGHT: [usize; 8] = [0, 6, 7, 8, 9, 10, 11, 12];

/// The table, or a line saying there is none; newline-ended.
pub fn render(g: &Gathered<'_>, style: &Style) -> String {
    let mut out = format!("{}\n", style.heading("Conversations"));
    if g.convs.is_empty() {
        match g.summary {
            Some(s) => out.push_str(&format!("  {}\n", crate::words::summary::no_lab_traffic(s))),
            None => out.push_str("  no TCP or UDP conversation with the lab port was seen\n"),
        }
        return out;
    }
    if let Some(why) = g.summary.and_then(|s| {
        super::words::port_choice(&s.port_choice, s.lab_port).map(|w| (s.lab_port, w))
    }) {
        out.push_str(&format!("  lab port {}: {}\n", why.0, why.1));
    }
    let cells = Cells::of(g);
    match cells.widths() {
        Some(widths) => cells.write(&widths, &mut out),
        None => comfy(&cells, &mut out),
    }
    out
}

/// Every cell's text, row after row (the header first), in one buffer.
#[derive(Debug)]
struct Cells {
    text: String,
    /// Where each cell ends in `text`; COLUMNS per row.
    ends: Vec<usize>,
}

impl Cells {
    fn of(g: &Gathered<'_>) -> Cells {
        let mut cells = Cells {
            text: String::with_capacity((g.convs.len() + 1) * 128),
            ends: Vec::with_capacity((g.convs.len() + 1) * COLUMNS),
        };
        for h in HEADER {
            cells.text.push_str(h);
            cells.end();
        }
        let mut n = itoa::Buffer::new();
        for c in &g.convs {
            let word = super::state_word(g, c);
            cells.text.push_str(n.format(c.conv));
            cells.end();
            let _ = write!(cells.text, "{}", c.client);
            cells.end();
            let _ = write!(cells.text, "{}", c.server);
            cells.end();
            cells.text.push_str(words::transport(c.transport));
            cells.end();
            cells
                .text
                .push_str(c.proto.map_or("-", labproto::Proto::as_str));
            cells.end();
            let _ = write!(cells.text, "{} ({word})", c.state.code());
            cells.end();
            words::duration_into(&mut cells.text, c.end_ts - c.start_ts);
            cells.end();
            for v in [
                c.frames_c2s,
                c.frames_s2c,
                c.bytes_c2s,
                c.bytes_s2c,
                c.messages_c2s,
                c.messages_s2c,
            ] {
                cells.text.push_str(n.format(v));
                cells.end();
            }
        }
        cells
    }

    fn end(&mut self) {
        self.ends.push(self.text.len());
    }

    /// The rows, each a slice of COLUMNS cells.
    fn rows(&self) -> impl Iterator<Item = Vec<&str>> + '_ {
        self.ends.chunks(COLUMNS).enumerate().map(|(r, ends)| {
            let mut start = r
                .checked_mul(COLUMNS)
                .and_then(|i| i.checked_sub(1))
                .and_then(|i| self.ends.get(i))
                .copied()
                .unwrap_or(0);
            ends.iter()
                .map(|&end| {
                    let cell = self.text.get(start..end).unwrap_or_default();
                    start = end;
                    cell
                })
                .collect()
        })
    }

    /// Each column's width as comfy-table measures it (at least 1), or `None` when a
    /// cell has a character this module does not measure.
    fn widths(&self) -> Option<[usize; COLUMNS]> {
        let mut widths = [1; COLUMNS];
        let mut start = 0;
        for (i, &end) in self.ends.iter().enumerate() {
            let w = plain_width(self.text.get(start..end)?)?;
            let col = widths.get_mut(i % COLUMNS)?;
            *col = (*col).max(w);
            start = end;
        }
        Some(widths)
    }

    /// The rows as comfy-table prints them, each line's end trimmed.
    fn write(&self, widths: &[usize; COLUMNS], out: &mut String) {
        let mut right = [false; COLUMNS];
        for i in RIGHT {
            if let Some(r) = right.get_mut(i) {
                *r = true;
            }
        }
        let mut start = 0;
        let mut line = out.len();
        for (i, &end) in self.ends.iter().enumerate() {
            let col = i % COLUMNS;
            let cell = self.text.get(start..end).unwrap_or_default();
            start = end;
            let width = widths.get(col).copied().unwrap_or(0);
            // plain_width succeeded for every cell in `widths`.
            let pad = width.saturating_sub(plain_width(cell).unwrap_or(width));
            out.push(' ');
            if right.get(col).copied().unwrap_or(false) {
                spaces(out, pad);
                out.push_str(cell);
            } else {
                out.push_str(cell);
                spaces(out, pad);
            }
            out.push(' ');
            if col == COLUMNS - 1 {
                let kept = out.get(line..).map_or(0, |l| l.trim_end().len());
                out.truncate(line + kept);
                out.push('\n');
                line = out.len();
            }
        }
    }
}

/// The display width of `cell` when every character in it is one column wide for
/// comfy-table (unicode-width) as well: printable ASCII, `→` and `µ`.
fn plain_width(cell: &str) -> Option<usize> {
    if cell.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Some(cell.len());
    }
    cell.chars()
        .all(|c| c == ' ' || c.is_ascii_graphic() || c == '→' || c == 'µ')
        .then(|| cell.chars().count())
}

fn spaces(out: &mut String, n: usize) {
    const SPACES: &str = "                                ";
    let mut left = n;
    while left > 0 {
        let take = left.min(SPACES.len());
        out.push_str(SPACES.get(..take).unwrap_or_default());
        left -= take;
    }
}

/// The table through comfy-table, for cells [`plain_width`] cannot measure.
fn comfy(cells: &Cells, out: &mut String) {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    // Same text whatever the terminal: no wrapping, no width detection.
    table.force_no_tty();
    table.set_content_arrangement(ContentArrangement::Disabled);
    let mut rows = cells.rows();
    table.set_header(rows.next().unwrap_or_default());
    for row in rows {
        table.add_row(row);
    }
    for i in RIGHT {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    for line in table.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cells of `rows` under the usual header.
    fn cells(rows: &[[&str; COLUMNS]]) -> Cells {
        let mut c = Cells {
            text: String::new(),
            ends: Vec::new(),
        };
        for cell in HEADER.iter().chain(rows.iter().flatten()) {
            c.text.push_str(cell);
            c.end();
        }
        c
    }

    fn both(rows: &[[&str; COLUMNS]]) -> (Option<String>, String) {
        let c = cells(rows);
        let plain = c.widths().map(|w| {
            let mut out = String::new();
            c.write(&w, &mut out);
            out
        });
        let mut theirs = String::new();
        comfy(&c, &mut theirs);
        (plain, theirs)
    }

    #[test]
    fn the_plain_table_is_comfy_tables_to_the_byte() {
        let row = |conv, client: &'static str, proto, dur, n| {
            [
                conv,
                client,
                "10.0.0.1:5005",
                "TCP",
                proto,
                "SF (normal)",
                dur,
                n,
                "8",
                "178",
                "0",
                "5",
                "5",
            ]
        };
        for rows in [
            vec![row("1", "10.0.0.2:50663", "v3", "450 µs", "10")],
            vec![
                row("1", "[::1]:40000", "-", "1.250 ms", "1234567"),
                row("22", "10.0.0.2:1", "text", "2.000 s", "3"),
                row("333", "", "", "", ""),
                row("4", " lead and trail ", "v2", "0 µs", " "),
            ],
        ] {
            let (plain, theirs) = both(&rows);
            assert_eq!(plain.as_deref(), Some(theirs.as_str()));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_measured_cells_print_as_comfy_table_prints_them(
            rows in proptest::collection::vec(
                proptest::collection::vec("[ a-z0-9:.()→µ\\[\\]-]{0,24}", COLUMNS),
                1..6,
            ),
        ) {
            let rows: Vec<[&str; COLUMNS]> = rows
                .iter()
                .map(|r| std::array::from_fn(|i| r.get(i).map_or("", String::as_str)))
                .collect();
            let (plain, theirs) = both(&rows);
            proptest::prop_assert_eq!(plain, Some(theirs));
        }
    }

    #[test]
    fn other_characters_go_through_comfy_table() {
        for odd in [
            "fe80::1%eth0é:1",
            "wide 中文",
            "tab\there",
            "new\nline",
            "e\u{301}",
        ] {
            let mut r = ["1"; COLUMNS];
            r[1] = odd;
            let (plain, theirs) = both(&[r]);
            assert_eq!(plain, None, "{odd}");
            assert!(!theirs.is_empty());
        }
    }
}
