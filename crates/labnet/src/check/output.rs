//! The results for people (an aligned table, colour only on a terminal without
//! NO_COLOR) and for programs (`--json`: one object per check).

use super::CheckResult;
use comfy_table::{presets, ContentArrangement, Table};
use std::io::IsTerminal;

/// Colour when stdout is a terminal and NO_COLOR is unset or empty, the rule of
/// labsniff's report style (https://no-color.org).
pub fn colour() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    std::io::stdout().is_terminal() && !no_color
}

fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The table: one row per check, then the fixes of the failed ones, then a total line.
pub fn table(title: &str, results: &[CheckResult], colour: bool) -> String {
    let mut out = format!("{}\n", paint(title, "1", colour));
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    // The same text whatever the terminal: no wrapping, no width detection.
    t.force_no_tty();
    t.set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(vec!["check", "result", "evidence"]);
    for r in results {
        let word = if r.pass { "pass" } else { "FAIL" };
        t.add_row(vec![
            r.check.to_string(),
            word.to_string(),
            r.evidence.clone(),
        ]);
    }
    for line in t.to_string().lines() {
        let line = line.trim_end();
        // Painted after layout: escape codes would otherwise count as width.
        let line = if colour {
            line.replacen(" FAIL ", &format!(" {} ", paint("FAIL", "31;1", true)), 1)
                .replacen(" pass ", &format!(" {} ", paint("pass", "32", true)), 1)
        } else {
            line.to_string()
        };
        out.push_str(&line);
        out.push('\n');
    }
    let failed: Vec<&CheckResult> = results.iter().filter(|r| !r.pass).collect();
    // A consequence has no fix of its own: its root's is listed once.
    let fixes: Vec<&&CheckResult> = failed.iter().filter(|r| !r.fix.is_empty()).collect();
    if !fixes.is_empty() {
        out.push_str(&format!("\n{}\n", paint("How to fix", "1", colour)));
        let width = fixes.iter().map(|r| r.check.len()).max().unwrap_or(0);
        for r in &fixes {
            out.push_str(&format!("  {:width$}  {}\n", r.check, r.fix));
        }
    }
    let summary = format!(
        "\n{} of {} checks passed",
        results.len() - failed.len(),
        results.len()
    );
    out.push_str(&paint(
        &summary,
        if failed.is_empty() { "32" } else { "31" },
        colour,
    ));
    out.push('\n');
    out
}

/// One JSON object per check, one per line.
pub fn json(results: &[CheckResult]) -> String {
    let mut out = String::new();
    for r in results {
        // CheckResult holds only strings and a bool: serialising cannot fail.
        if let Ok(line) = serde_json::to_string(r) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
