//! Colour for people: plain ANSI codes, only when asked for.

use std::io::IsTerminal;

/// How the report is painted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Use ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// Colour when stdout is a terminal and NO_COLOR is unset or empty
    /// (https://no-color.org: "when present and not an empty string").
    pub fn detect() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: std::io::stdout().is_terminal() && !no_color,
        }
    }

    fn paint(&self, text: &str, code: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn heading(&self, text: &str) -> String {
        self.paint(text, "1")
    }

    pub fn subheading(&self, text: &str) -> String {
        self.paint(text, "1;36")
    }

    pub fn error(&self, text: &str) -> String {
        self.paint(text, "31")
    }

    pub fn warning(&self, text: &str) -> String {
        self.paint(text, "33")
    }

    pub fn note(&self, text: &str) -> String {
        self.paint(text, "36")
    }

    pub fn dim(&self, text: &str) -> String {
        self.paint(text, "2")
    }
}
