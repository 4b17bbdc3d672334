//! The explain report's shape on every test fixture: the answers come first, each
//! explanation is said once, and no heading stands over nothing.

use super::tests::{events_of, fixtures};
use super::{render, Gathered, Style, View};
use crate::analysis::capture::Concurrency;

const PLAIN: Style = Style { color: false };

/// The report's paragraphs: a line and the more indented lines that go on from it
/// (a bullet's or a row's wrapped text), joined.
fn paragraphs(report: &str) -> Vec<String> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut out: Vec<(usize, String)> = Vec::new();
    for line in report.lines() {
        let starts = line.trim_start().starts_with("- ");
        match out.last_mut() {
            Some((at, text)) if !line.trim().is_empty() && indent(line) > *at && !starts => {
                text.push(' ');
                text.push_str(line.trim());
            }
            _ => out.push((indent(line), line.trim().to_string())),
        }
    }
    out.into_iter().map(|(_, p)| p).collect()
}

#[test]
fn paragraphs_join_wrapped_lines() {
    let got =
        paragraphs("  A\n    - one\n      two\n    - three\n    frame 1  x\n             y\n");
    assert_eq!(got, ["A", "- one two", "- three", "frame 1  x y"]);
}

/// No paragraph of 60 characters or more is printed twice: an explanation that holds for
/// several conversations is said once (issue 28).
#[test]
fn no_long_paragraph_is_said_twice_on_any_fixture() {
    let mut several = 0;
    let mut twice: Vec<String> = Vec::new();
    for path in fixtures() {
        let events = events_of(&path);
        let report = render(&events, View::Explain, &PLAIN);
        several += usize::from(Gathered::new(&events).convs.len() >= 2);
        let mut seen: Vec<String> = Vec::new();
        for p in paragraphs(&report)
            .into_iter()
            .filter(|p| p.chars().count() >= 60)
        {
            if seen.contains(&p) {
                twice.push(format!("{}: {p}", path.display()));
            }
            seen.push(p);
        }
    }
    assert!(twice.is_empty(), "said twice:\n{}", twice.join("\n"));
    assert!(
        several > 10,
        "{several} fixtures with several conversations"
    );
}

/// The frames [`words::answers::served`](crate::words::answers::served) must name.
fn served_frames(fact: Concurrency) -> Vec<u64> {
    match fact {
        Concurrency::Proven {
            earlier_answer,
            later_answer,
            ..
        } => vec![earlier_answer, later_answer],
        Concurrency::Iterative {
            earlier_end,
            later_request,
            later_answer,
            ..
        } => vec![earlier_end, later_request, later_answer],
        Concurrency::Unknown { .. } => Vec::new(),
    }
}

/// The answers come first: "In short" is the report's first block, at most 20 lines,
/// and its "served" line names the frames of the concurrency fact.
#[test]
fn the_answers_come_first_on_every_fixture() {
    let mut served = 0;
    for path in fixtures() {
        let events = events_of(&path);
        let g = Gathered::new(&events);
        let report = render(&events, View::Explain, &PLAIN);
        if g.convs.is_empty() {
            assert!(!report.contains("In short"), "{report}");
            continue;
        }
        let start = report.find("In short").unwrap_or(usize::MAX);
        let table = report.find("\nConversations\n").unwrap_or(0);
        assert!(start < table, "{}: {report}", path.display());
        let block = report[start..table].trim_end();
        assert!(block.lines().count() <= 20, "{block}");
        if let Some(fact) = g.concurrency() {
            let line = block
                .split("\n    served ")
                .nth(1)
                .unwrap_or_else(|| panic!("{}: no served line\n{block}", path.display()));
            let line = line.split("\n    framing").next().unwrap_or_default();
            for f in served_frames(fact) {
                assert!(line.contains(&format!("frame {f}")), "{f}: {line}");
            }
            served += 1;
        }
    }
    assert!(served > 3, "{served} fixtures answer how the server served");
}

/// A heading always has something under it: the next line is more indented.
#[test]
fn no_heading_stands_over_nothing_on_any_fixture() {
    let indent = |l: &str| l.len() - l.trim_start().len();
    for path in fixtures() {
        let report = render(&events_of(&path), View::Explain, &PLAIN);
        let lines: Vec<&str> = report.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let heading = match indent(l) {
                0 => {
                    !l.is_empty()
                        && !l.starts_with(|c: char| c.is_ascii_digit() || c == '(' || c == '.')
                }
                // Section titles are short words ("Ports", "Echoes"); a sentence at
                // this depth (the no-lab-traffic note under the table) is no heading.
                2 => {
                    !l.starts_with("  Wireshark filter")
                        && l.trim().len() <= 40
                        && !l.contains([';', ':'])
                }
                _ => false,
            };
            // The last line is the totals, never a heading; the table's header row
            // starts with a space.
            if !heading || i + 1 == lines.len() {
                continue;
            }
            let next = lines.get(i + 1).copied().unwrap_or("");
            assert!(
                !next.trim().is_empty() && indent(next) > indent(l),
                "{}: '{l}' over '{next}'\n{report}",
                path.display()
            );
        }
    }
}

/// "In short" names each kind of warning or error once per conversation, with how many
/// times it came when more than once (a lossy capture has hundreds of `gap`s).
#[test]
fn problems_name_each_kind_once_with_its_count_on_every_fixture() {
    use crate::event::Severity;
    let mut counted = 0;
    for path in fixtures() {
        let events = events_of(&path);
        let g = Gathered::new(&events);
        let report = render(&events, View::Explain, &PLAIN);
        let Some(block) = report.split("\n    problems  ").nth(1) else {
            continue;
        };
        let block = block.split("\n\n").next().unwrap_or_default();
        let line = block.split_whitespace().collect::<Vec<_>>().join(" ");
        for c in &g.convs {
            let mut kinds: Vec<(Severity, &str, usize)> = Vec::new();
            for d in g.diags_of(c.conv) {
                if d.severity == Severity::Note {
                    continue;
                }
                let title = crate::words::diagnostic::title(&d.kind);
                match kinds.iter_mut().find(|k| k.0 == d.severity && k.1 == title) {
                    Some(k) => k.2 += 1,
                    None => kinds.push((d.severity, title, 1)),
                }
            }
            for (severity, title, n) in kinds {
                let named = format!("{}: {title}", severity.as_str());
                let mention = |tail: &str| line.matches(&format!("{named}{tail}")).count();
                let here = if n > 1 {
                    format!(" ({n} times), ")
                } else {
                    ", ".to_string()
                };
                // Named once (unless cut by "and N more"), with its count.
                assert!(mention(&here) <= 1, "{}: {named}: {line}", path.display());
                counted += usize::from(n > 1 && mention(&here) == 1);
            }
        }
    }
    assert!(counted > 0, "no fixture has a kind said with its count");
}
