//! The class table (one row per file, aligned; colour only on a terminal without
//! NO_COLOR), `--csv`, `--json` (one object per file per line), and `--list`.

use super::{Exercise, Grade, Outcome, EXERCISES};
use crate::report::Style;
use comfy_table::{presets, ContentArrangement, Table};

/// Evidence shown in the table's note column, at most (the JSON has all of it).
const NOTE_CHARS: usize = 100;

fn plain_table() -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    // The same text whatever the terminal: no wrapping, no width detection.
    t.force_no_tty();
    t.set_content_arrangement(ContentArrangement::Disabled);
    t
}

fn push_lines(out: &mut String, t: &Table, paint: impl Fn(&str) -> String) {
    for line in t.to_string().lines() {
        out.push_str(&paint(line.trim_end()));
        out.push('\n');
    }
}

/// The first failed requirement's evidence (else the first undecided one's), cut for
/// the table.
fn note(g: &Grade) -> String {
    let Some(v) = g.first_open() else {
        return String::new();
    };
    let mut text = format!("{}: {}", v.name, v.evidence);
    if text.chars().count() > NOTE_CHARS {
        text = text.chars().take(NOTE_CHARS - 1).collect::<String>() + "…";
    }
    text
}

/// The class table: file, result, one column per requirement, the first failure.
pub fn table(exercise: &Exercise, grades: &[Grade], style: &Style) -> String {
    let mut out = format!(
        "{}\n",
        style.heading(&format!(
            "Exercise {}: {} — {}",
            exercise.id,
            exercise.title,
            crate::words::count(grades.len() as u64, "capture")
        ))
    );
    let mut t = plain_table();
    let mut header = vec!["file".to_string(), "result".to_string()];
    header.extend(exercise.requirements.iter().map(|r| r.name.to_string()));
    header.push("first failure (or what is missing)".to_string());
    t.set_header(header);
    for g in grades {
        let result = match g.outcome {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Undecided => "undecided",
        };
        let mut row = vec![g.file.clone(), result.to_string()];
        for r in exercise.requirements {
            row.push(
                match g.requirements.iter().find(|v| v.name == r.name) {
                    Some(v) => match v.outcome {
                        Outcome::Pass => "ok",
                        Outcome::Fail => "FAIL",
                        Outcome::Undecided => "?",
                    },
                    // Not evaluated: the file could not be read.
                    None => "-",
                }
                .to_string(),
            );
        }
        row.push(note(g));
        t.add_row(row);
    }
    push_lines(&mut out, &t, |line| {
        // Painted after layout, so escape codes do not count as width.
        if line.contains(" FAIL ") || line.ends_with(" FAIL") {
            style.error(line)
        } else {
            line.to_string()
        }
    });
    let passed = grades.iter().filter(|g| g.pass).count();
    let undecided = grades
        .iter()
        .filter(|g| g.outcome == Outcome::Undecided)
        .count();
    let undecided = match undecided {
        0 => String::new(),
        n => format!(
            "; {n} undecided (?: what the capture cannot show, the note says what to hand in)"
        ),
    };
    let (captures, pass) = match grades.len() {
        1 => ("capture", "passes"),
        _ => ("captures", "pass"),
    };
    out.push_str(&format!(
        "\n{passed} of {} {captures} {pass} exercise {}{undecided} (labsniff grade --json for \
         every requirement's evidence and frames)\n",
        grades.len(),
        exercise.id
    ));
    out
}

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Undecided => "undecided",
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV (RFC 4180): file, exercise, pass, one column per requirement (true/false,
/// `undecided` when what was handed in cannot tell, empty when not evaluated), the
/// first failure, then the outcome (pass/fail/undecided) and the first undecided
/// requirement's evidence.
pub fn csv(exercise: &Exercise, grades: &[Grade]) -> String {
    let mut header = vec!["file", "exercise", "pass"];
    header.extend(exercise.requirements.iter().map(|r| r.name));
    header.extend(["first_failure", "outcome", "first_undecided"]);
    let mut out = header.join(",") + "\r\n";
    for g in grades {
        let mut row = vec![
            csv_field(&g.file),
            exercise.id.to_string(),
            g.pass.to_string(),
        ];
        for r in exercise.requirements {
            row.push(
                g.requirements
                    .iter()
                    .find(|v| v.name == r.name)
                    .map_or(String::new(), |v| match v.outcome {
                        Outcome::Undecided => "undecided".to_string(),
                        _ => v.pass.to_string(),
                    }),
            );
        }
        let first = |outcome: Outcome| {
            g.requirements
                .iter()
                .find(|v| v.outcome == outcome)
                .map_or(String::new(), |v| format!("{}: {}", v.name, v.evidence))
        };
        row.push(csv_field(&first(Outcome::Fail)));
        row.push(outcome_word(g.outcome).to_string());
        row.push(csv_field(&first(Outcome::Undecided)));
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// One JSON object per file, one per line (SCHEMA.md, `grade`).
pub fn json(grades: &[Grade]) -> String {
    let mut out = String::new();
    for g in grades {
        // Strings, bools and integers only: serialising cannot fail.
        if let Ok(line) = serde_json::to_string(g) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// `--list`: every exercise and its requirements, from the one table.
pub fn list(style: &Style) -> String {
    let mut out = String::new();
    let mut t = plain_table();
    t.set_header(vec![
        "exercise",
        "requirement",
        "what the capture must show",
    ]);
    for e in EXERCISES {
        for (i, r) in e.requirements.iter().enumerate() {
            let id = if i == 0 {
                format!("{} {}", e.id, e.title)
            } else {
                String::new()
            };
            t.add_row(vec![id, r.name.to_string(), r.what.to_string()]);
        }
    }
    out.push_str(&format!("{}\n", style.heading("Requirements per exercise")));
    push_lines(&mut out, &t, str::to_string);
    out
}
