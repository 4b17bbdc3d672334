//! The class page of `labsniff grade … --html OUT.html`: one row per capture, one
//! column per requirement of the exercise (pass or fail, with its evidence in the
//! grader's words and its frames), and a link to each capture's own page, written
//! beside the class page. Sortable as the conversation table.

use super::assets;
use super::escape::text;
use crate::grade::{Exercise, Grade};
use std::fmt::Write as _;

/// The class page; `pages[i]` is the file name of `grades[i]`'s page (None when it
/// could not be written).
pub fn render(exercise: &Exercise, grades: &[Grade], pages: &[Option<String>]) -> String {
    let mut out = String::with_capacity(16 * 1024 + grades.len() * 2_048);
    let passed = grades.iter().filter(|g| g.pass).count();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>labsniff grade: exercise {0}</title><style>{1}</style></head><body><header><h1>Exercise {0}: {2}</h1><p class=\"summary\">{3} of {4} captures meet every requirement.</p></header>",
        text(exercise.id),
        assets::CSS,
        text(exercise.title),
        passed,
        grades.len()
    );
    out.push_str(
        "<nav><table class=\"convs sortable grades\"><thead><tr><th>capture</th><th>all</th>",
    );
    for r in exercise.requirements {
        let _ = write!(out, "<th title=\"{}\">{}</th>", text(r.what), text(r.name));
    }
    out.push_str("</tr></thead><tbody>");
    for (g, page) in grades.iter().zip(pages) {
        row(&mut out, exercise, g, page.as_deref());
    }
    let _ = writeln!(
        out,
        "</tbody></table></nav><aside id=\"details\"></aside><script>{}</script></body></html>",
        assets::JS
    );
    out
}

/// The cell's class and word: pass, fail, or undecided (what was handed in cannot tell).
fn outcome_class(o: crate::grade::Outcome) -> &'static str {
    match o {
        crate::grade::Outcome::Pass => "pass",
        crate::grade::Outcome::Fail => "fail",
        crate::grade::Outcome::Undecided => "undecided",
    }
}

fn row(out: &mut String, exercise: &Exercise, g: &Grade, page: Option<&str>) {
    let name = std::path::Path::new(&g.file)
        .file_name()
        .map_or_else(|| g.file.clone(), |n| n.to_string_lossy().into_owned());
    let link = match page {
        Some(p) => format!("<a href=\"{}\">{}</a>", text(p), text(&name)),
        None => text(&name),
    };
    let _ = write!(
        out,
        "<tr data-file=\"{0}\"><td data-v=\"{0}\">{link}</td><td class=\"{1}\" data-v=\"{2}\">{1}</td>",
        text(&g.file),
        outcome_class(g.outcome),
        u8::from(g.pass)
    );
    for r in exercise.requirements {
        match g.requirements.iter().find(|v| v.name == r.name) {
            Some(v) => {
                // `frame 1`, `frames 20, 25`, `frames 1–3, 15`: the report's words.
                let mut listed = v.frames.clone();
                listed.sort_unstable();
                listed.dedup();
                let frames = if listed.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", crate::words::frames_said(&listed, false))
                };
                let _ = write!(
                    out,
                    "<td class=\"{0}\" data-req=\"{1}\" data-v=\"{2}\"><b>{0}</b> {3}{4}</td>",
                    outcome_class(v.outcome),
                    text(r.name),
                    u8::from(v.pass),
                    text(&v.evidence),
                    text(&frames)
                );
            }
            None => {
                let _ = write!(out, "<td data-req=\"{}\" data-v=\"\">—</td>", text(r.name));
            }
        }
    }
    out.push_str("</tr>");
}
