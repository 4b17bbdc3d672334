//! The report's words: labsniff's words ([`crate::words`], by subject) and the
//! report's section titles, which need the report's [`Style`](super::Style).

pub(crate) use crate::words::*;

/// A section title line.
pub fn section_title(title: &str, style: &super::Style) -> String {
    format!("  {}\n", style.subheading(title))
}
