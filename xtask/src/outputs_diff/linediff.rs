//! A small, bounded line diff for showing where two outputs part: the common first and
//! last lines are set aside, the lines between are matched by a longest common
//! subsequence (on at most [`WINDOW`] lines of each side), and the first hunks are
//! printed unified-style with line numbers, long lines cut around the first changed
//! column.

/// Lines of each side the matching looks at, past the common first lines.
const WINDOW: usize = 400;
/// Characters shown of a line.
const WIDTH: usize = 160;
/// Unchanged lines shown around a change.
const CONTEXT: usize = 2;

/// One step of the edit script, as indices into the two windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same(usize, usize),
    Del(usize),
    Ins(usize),
}

/// `--- NAME: ...` and at most `max` more lines of `- before` / `+ after`.
pub fn render(name: &str, before: &[u8], after: &[u8], max: usize) -> Vec<String> {
    let a: Vec<&[u8]> = before.split_inclusive(|&c| c == b'\n').collect();
    let b: Vec<&[u8]> = after.split_inclusive(|&c| c == b'\n').collect();
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let wa = &a[pre..a.len() - suf];
    let wb = &b[pre..b.len() - suf];
    let mut out = vec![format!(
        "--- {name}: {} lines before, {} after; first difference at line {}",
        a.len(),
        b.len(),
        pre + 1
    )];
    let first = pre.saturating_sub(CONTEXT);
    for (i, text) in a[first..pre].iter().enumerate() {
        out.push(line(' ', first + i + 1, text, 0));
    }
    let ops = edit_script(&wa[..wa.len().min(WINDOW)], &wb[..wb.len().min(WINDOW)]);
    let (shown, all) = hunks(&ops, wa, wb, pre, max.saturating_sub(out.len() - 1));
    out.extend(shown);
    if !all || wa.len() > WINDOW || wb.len() > WINDOW {
        out.push("  … (more differences not shown)".to_string());
        return out;
    }
    let after = a.len() - suf;
    for (i, text) in a[after..].iter().take(CONTEXT).enumerate() {
        out.push(line(' ', after + i + 1, text, 0));
    }
    out
}

/// The edit script turning `a` into `b`, from a longest-common-subsequence table.
fn edit_script(a: &[&[u8]], b: &[&[u8]]) -> Vec<Op> {
    let (n, m) = (a.len(), b.len());
    // lcs[i * (m + 1) + j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * (m + 1) + j] = if a[i] == b[j] {
                lcs[(i + 1) * (m + 1) + j + 1] + 1
            } else {
                lcs[(i + 1) * (m + 1) + j].max(lcs[i * (m + 1) + j + 1])
            };
        }
    }
    let (mut i, mut j, mut ops) = (0, 0, Vec::new());
    while i < n && j < m {
        if a[i] == b[j] {
            ops.push(Op::Same(i, j));
            (i, j) = (i + 1, j + 1);
        } else if lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1] {
            ops.push(Op::Del(i));
            i += 1;
        } else {
            ops.push(Op::Ins(j));
            j += 1;
        }
    }
    ops.extend((i..n).map(Op::Del));
    ops.extend((j..m).map(Op::Ins));
    ops
}

/// The script's first hunks, at most `max` lines: each run of changes with
/// [`CONTEXT`] unchanged lines around it; true when that is all of them.
fn hunks(ops: &[Op], a: &[&[u8]], b: &[&[u8]], offset: usize, max: usize) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut k = 0;
    while k < ops.len() && out.len() < max {
        let same = matches!(ops[k], Op::Same(..));
        let end = k + ops[k..]
            .iter()
            .take_while(|op| matches!(op, Op::Same(..)) == same)
            .count();
        if same {
            same_run(&ops[k..end], a, offset, end == ops.len(), &mut out);
        } else {
            change_run(&ops[k..end], a, b, offset, &mut out);
        }
        k = end;
    }
    let all = k == ops.len() && out.len() <= max;
    out.truncate(max);
    (out, all)
}

/// Unchanged lines after a change: the first and (unless at the end) last few.
fn same_run(run: &[Op], a: &[&[u8]], offset: usize, last: bool, out: &mut Vec<String>) {
    let show = |op: &Op, out: &mut Vec<String>| {
        if let Op::Same(i, _) = *op {
            out.push(line(' ', offset + i + 1, a[i], 0));
        }
    };
    if run.len() <= 2 * CONTEXT || last {
        run.iter()
            .take(if last { CONTEXT } else { run.len() })
            .for_each(|op| show(op, out));
        return;
    }
    run[..CONTEXT].iter().for_each(|op| show(op, out));
    out.push("  ...".to_string());
    run[run.len() - CONTEXT..]
        .iter()
        .for_each(|op| show(op, out));
}

/// A run of changes: the removed lines, then the added ones, cut around the column
/// where the first removed and first added line part.
fn change_run(run: &[Op], a: &[&[u8]], b: &[&[u8]], offset: usize, out: &mut Vec<String>) {
    let dels: Vec<usize> = run
        .iter()
        .filter_map(|op| match op {
            Op::Del(i) => Some(*i),
            _ => None,
        })
        .collect();
    let ins: Vec<usize> = run
        .iter()
        .filter_map(|op| match op {
            Op::Ins(j) => Some(*j),
            _ => None,
        })
        .collect();
    let col = match (dels.first(), ins.first()) {
        (Some(&i), Some(&j)) => first_difference(a[i], b[j]),
        _ => 0,
    };
    for i in dels {
        out.push(line('-', offset + i + 1, a[i], col));
    }
    for j in ins {
        out.push(line('+', offset + j + 1, b[j], col));
    }
}

/// The character index where two lines first differ.
fn first_difference(x: &[u8], y: &[u8]) -> usize {
    let (x, y) = (String::from_utf8_lossy(x), String::from_utf8_lossy(y));
    x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count()
}

/// `-    57: text`, at most [`WIDTH`] characters of it, around `col` when it is far in.
fn line(sign: char, number: usize, bytes: &[u8], col: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let newline = text.ends_with('\n');
    let chars: Vec<char> = text
        .trim_end_matches('\n')
        .chars()
        .map(|c| if c.is_control() && c != '\t' { '·' } else { c })
        .collect();
    let start = if col + 40 > WIDTH { col - WIDTH / 3 } else { 0 };
    let end = (start + WIDTH).min(chars.len());
    let mut shown: String = chars[start.min(end)..end].iter().collect();
    if start > 0 {
        shown.insert(0, '…');
    }
    if end < chars.len() {
        shown.push('…');
    }
    if !newline {
        shown.push_str(" [no newline at end]");
    }
    format!("{sign}{number:>6}: {shown}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_changed_line_is_shown_with_its_number_and_context() {
        let out = render("stdout", b"a\nb\nc\nd\n", b"a\nb\nX\nd\n", 20);
        assert_eq!(
            out,
            [
                "--- stdout: 4 lines before, 4 after; first difference at line 3",
                "      1: a",
                "      2: b",
                "-     3: c",
                "+     3: X",
                "      4: d",
            ]
        );
    }

    #[test]
    fn output_is_bounded() {
        let a: String = (0..100).map(|i| format!("{i}\n")).collect();
        let b: String = (0..100).map(|i| format!("{}\n", i * 2)).collect();
        let out = render("x", a.as_bytes(), b.as_bytes(), 20);
        assert!(out.len() <= 22, "{out:?}");
        assert!(out.last().is_some_and(|l| l.contains("not shown")));
    }

    #[test]
    fn a_long_line_is_cut_around_its_change() {
        let a = format!("{}a{}\n", "x".repeat(300), "y".repeat(300));
        let b = format!("{}b{}\n", "x".repeat(300), "y".repeat(300));
        let out = render("x", a.as_bytes(), b.as_bytes(), 20);
        assert!(
            out[1].starts_with("-     1: …") && out[1].contains('a'),
            "{out:?}"
        );
        assert!(out[2].contains('b') && out[2].ends_with('…'), "{out:?}");
    }

    #[test]
    fn a_missing_final_newline_is_named() {
        let out = render("x", b"a\n", b"a", 20);
        assert_eq!(out[1], "-     1: a");
        assert_eq!(out[2], "+     1: a [no newline at end]");
    }
}
