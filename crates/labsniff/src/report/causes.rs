//! "Causes the packets show": each cause of one conversation ([`crate::causes`]) in
//! its words, with the Wireshark filter that shows its frames.

use super::{words, Style};
use crate::causes::{Cause, CauseKind};
use crate::event::cause::IcmpKind;

/// The ICMP port unreachable errors from the server's own host that answer the client
/// (the `icmp_error` fact with `from_destination`), as (first ICMP frame, count): every
/// sentence that would say nothing came back asks this first.
pub fn port_unreachable(causes: &[&Cause]) -> Option<(u64, u64)> {
    causes.iter().find_map(|c| match &c.kind {
        CauseKind::IcmpError {
            icmp: IcmpKind::PortUnreachable,
            from_destination: true,
            errors,
            ..
        } => Some((c.frames.first().copied().unwrap_or(0), *errors)),
        _ => None,
    })
}

/// The section (empty when the conversation has no cause). Its frames are named one by
/// one (`words::causes::evidence`), never in the counted form the legend explains.
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
