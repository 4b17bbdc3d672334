//! The page's skeleton: the head with the inline style, the capture's summary (lab
//! port and why, warnings, notes about the whole capture), the sortable conversation
//! table, one section per conversation, the details panel and the script.

use super::escape::text;
use super::{assets, conversation};
use crate::event::ConversationRecord;
use crate::report::Gathered;
use std::fmt::Write as _;

/// The whole page for the index `g`; `title` names the input.
pub fn render(g: &Gathered<'_>, title: &str, peer: Option<&super::Peer<'_>>) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>labsniff: {}</title><style>{}</style></head><body>",
        text(title),
        assets::CSS
    );
    header(&mut out, g, title);
    table(&mut out, g);
    let mut mapped = Vec::new();
    let mut budget = super::bound::Budget::page();
    for c in g.convs.iter().take(crate::report::SECTIONS_MAX) {
        conversation::render(&mut out, g, c, &mut mapped, peer, &mut budget);
    }
    if g.convs.len() > crate::report::SECTIONS_MAX {
        let _ = write!(
            out,
            "<p>… and {} more conversations (the table above lists them all)</p>",
            g.convs.len() - crate::report::SECTIONS_MAX
        );
    }
    let _ = writeln!(
        out,
        "<aside id=\"details\" aria-live=\"polite\">Click a frame of a ladder to see its header fields.</aside><script>{}</script></body></html>",
        assets::JS
    );
    out
}

/// The title, the summary line, the warnings, the lab port and why, the notes.
fn header(out: &mut String, g: &Gathered<'_>, title: &str) {
    let _ = write!(out, "<header><h1>labsniff: {}</h1>", text(title));
    if let Some(s) = g.summary {
        let _ = write!(
            out,
            "<p class=\"summary\">{}</p>",
            text(&crate::words::summary::line(s))
        );
        if let Some(w) = crate::report::drop_warning(s) {
            let _ = write!(out, "<p class=\"warn\">{}</p>", text(w.trim()));
        }
        let how = match s.port_choice.how {
            crate::event::How::Given => " (given with --port)",
            crate::event::How::Default => " (the default)",
            _ => "",
        };
        let why = crate::words::port_choice(&s.port_choice, s.lab_port)
            .map(|w| format!("{how}: {w}"))
            .unwrap_or_else(|| how.to_string());
        let _ = write!(
            out,
            "<p class=\"port\">Lab port {}{}</p>",
            s.lab_port,
            text(&why)
        );
    }
    for d in &g.capture_diags {
        let _ = write!(
            out,
            "<p class=\"warn\">{}</p>",
            text(&crate::words::diagnostic::text(d))
        );
    }
    for cause in &g.capture_causes {
        let _ = write!(
            out,
            "<p class=\"cause\">{}</p>",
            text(&crate::words::causes::text(cause))
        );
    }
    let notes = crate::report::capture_notes_plain(g);
    if !notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for n in notes {
            let _ = write!(out, "<li>{}</li>", text(&n));
        }
        out.push_str("</ul>");
    }
    out.push_str("</header>");
}

/// The conversation table; each header sorts by its column (`data-v`).
fn table(out: &mut String, g: &Gathered<'_>) {
    out.push_str("<nav><h2>Conversations</h2><table class=\"convs sortable\"><thead><tr>");
    for h in [
        "#",
        "transport",
        "proto",
        "client",
        "server",
        "state",
        "captured at",
        "frames",
        "bytes c→s",
        "bytes s→c",
        "messages",
        "retransmissions",
        "start (s)",
        "duration (s)",
    ] {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    let origin = g
        .convs
        .iter()
        .map(|c| c.start_ts)
        .fold(f64::INFINITY, f64::min);
    for c in &g.convs {
        table_row(out, c, origin);
    }
    out.push_str("</tbody></table></nav>");
}

fn table_row(out: &mut String, c: &ConversationRecord, origin: f64) {
    let point = c.tcp.as_ref().map_or("", |t| t.capture_point.as_str());
    let cell = |v: &str| format!("<td data-v=\"{0}\">{0}</td>", text(v));
    let numc = |v: u64| format!("<td class=\"num\" data-v=\"{v}\">{v}</td>");
    let secs = |v: f64| format!("<td class=\"num\" data-v=\"{v:.6}\">{v:.3}</td>");
    let _ = write!(
        out,
        "<tr><td data-v=\"{0}\"><a href=\"#conv-{0}\">{0}</a></td>{1}{2}{3}{4}{5}{6}{7}{8}{9}{10}{11}{12}{13}</tr>",
        c.conv,
        cell(c.transport.as_str()),
        cell(c.proto.map_or("", labproto::Proto::as_str)),
        cell(&c.client.to_string()),
        cell(&c.server.to_string()),
        cell(c.state.code()),
        cell(point),
        numc(c.frames_c2s + c.frames_s2c),
        numc(c.bytes_c2s),
        numc(c.bytes_s2c),
        numc(c.messages_c2s + c.messages_s2c),
        numc(c.retransmissions),
        secs(c.start_ts - origin),
        secs(c.end_ts - c.start_ts),
    );
}
