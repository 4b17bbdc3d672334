//! The conversations table: who talked to whom, how, how much, and how it ended.

use super::{words, Gathered, Style};
use comfy_table::{presets, CellAlignment, ContentArrangement, Table};

/// The table, or a line saying there is none; newline-ended.
pub fn render(g: &Gathered<'_>, style: &Style) -> String {
    let mut out = format!("{}\n", style.heading("Conversations"));
    if g.convs.is_empty() {
        match g.summary {
            Some(s) => out.push_str(&format!("  {}\n", super::no_lab::sentence(s))),
            None => out.push_str("  no TCP or UDP conversation with the lab port was seen\n"),
        }
        return out;
    }
    if let Some(why) = g
        .summary
        .and_then(|s| s.port_choice.sentence(s.lab_port).map(|w| (s.lab_port, w)))
    {
        out.push_str(&format!("  lab port {}: {}\n", why.0, why.1));
    }
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    // Same text whatever the terminal: no wrapping, no width detection.
    table.force_no_tty();
    table.set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(vec![
        "conv",
        "client",
        "server",
        "transport",
        "proto",
        "state",
        "duration",
        "frames c→s",
        "frames s→c",
        "bytes c→s",
        "bytes s→c",
        "msgs c→s",
        "msgs s→c",
    ]);
    for c in &g.convs {
        let (word, _) = words::state(c.transport, c.state);
        table.add_row(vec![
            c.conv.to_string(),
            c.client.clone(),
            c.server.clone(),
            words::transport(c.transport).to_string(),
            c.proto.unwrap_or("-").to_string(),
            format!("{} ({word})", c.state),
            words::duration(c.end_ts - c.start_ts),
            c.frames_c2s.to_string(),
            c.frames_s2c.to_string(),
            c.bytes_c2s.to_string(),
            c.bytes_s2c.to_string(),
            c.messages_c2s.to_string(),
            c.messages_s2c.to_string(),
        ]);
    }
    for i in [0, 6, 7, 8, 9, 10, 11, 12] {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    for line in table.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
