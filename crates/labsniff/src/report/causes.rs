//! "Causes the packets show": each cause of one conversation ([`crate::causes`]) in
//! its words, with the Wireshark filter that shows its frames.

use super::{words, Style};
use crate::causes::Cause;

/// The section (empty when the conversation has no cause).
pub fn section(causes: &[&Cause], style: &Style) -> String {
    if causes.is_empty() {
        return String::new();
    }
    let mut out = words::section_title("Causes the packets show", style);
    for c in causes {
        let line = format!(
            "{} (Wireshark filter: {})",
            words::causes::text(c),
            words::causes::filter(c)
        );
        out.push_str(&words::bullet(&line));
    }
    out
}
