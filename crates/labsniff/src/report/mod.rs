//! The explain report: what a capture of the lab says about ports, connections,
//! framing and echoes, in plain words, grouped per conversation.
//!
//! Everything here is a pure function of the events the analyzer produced, so the
//! report can be rendered after a file was read or at the end of a live capture.
//!
//! - [`render`] gives the text of one [`View`]; [`render_svg`] the flow graph as SVG.
//! - Each section has its own file; [`words`] holds the phrasing they share.
//! - The explain report answers first ([`answers`]) and says an explanation that holds
//!   for several conversations once ([`share`]).

mod answers;
mod bytes;
mod causes;
mod diagnostics;
mod echoes;
mod flow;
mod framing;
mod handshake;
mod loss;
mod ports;
mod round_trips;
mod share;
mod style;
mod svg;
mod syscalls;
mod table;
pub mod tcp_analysis;
pub(crate) mod words;

pub use flow::{ladders, Arrow, ArrowKind, Ladder};
pub use style::Style;
pub use svg::{render_svg, render_svg_lanes};
pub use tcp_analysis::{analysis_text, analysis_text_without_frame};

use crate::event::{Event, MessageEvent, Summary};
use labproto::Proto;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The conversations table alone.
    Conversations,
    /// One line per decoded message (the plain listing).
    Messages,
    /// A ladder diagram per conversation, like Wireshark's Flow Graph.
    Flow,
    /// "In short" (the lab's questions answered, with frames), the table, what several
    /// conversations share said once, then per conversation: ports, handshake and
    /// teardown, framing, echoes, diagnostics; then notes about the whole capture.
    #[default]
    Explain,
}

impl View {
    /// The names accepted by [`std::str::FromStr`].
    pub const NAMES: [&'static str; 4] = ["conversations", "messages", "flow", "explain"];
}

impl std::str::FromStr for View {
    type Err = String;
    fn from_str(s: &str) -> Result<View, String> {
        match s.to_ascii_lowercase().as_str() {
            "conversations" | "conv" => Ok(View::Conversations),
            "messages" => Ok(View::Messages),
            "flow" => Ok(View::Flow),
            "explain" => Ok(View::Explain),
            other => Err(format!(
                "unknown view '{other}': expected one of {}",
                View::NAMES.join(", ")
            )),
        }
    }
}

/// The report reads the capture through labfacts' one index.
pub(crate) use labfacts::index::CaptureIndex as Gathered;

/// `order=1 size=5 "hello"` (v2/v3) or `"hello"` (text), as the report names a message.
pub fn message_label(m: &MessageEvent) -> String {
    words::message(m)
}

/// The table's word for a conversation's state ([`words::state`]), told by the
/// `icmp_error` fact when a UDP client's datagrams drew ICMP port unreachable from the
/// server's host: no reply, but not silence.
fn state_word(g: &Gathered<'_>, c: &crate::event::ConversationRecord) -> &'static str {
    let (word, _) = words::state(c.transport, c.state);
    let udp_s0 =
        c.transport == crate::event::TransportKind::Udp && c.state == crate::event::ZeekState::S0;
    if udp_s0 && causes::port_unreachable(g.causes_of(c.conv)).is_some() {
        "no reply, ICMP port unreachable"
    } else {
        word
    }
}

/// One line per conversation: what the section header comment of an annotated
/// capture lists.
pub fn conversation_lines(events: &[Event]) -> Vec<String> {
    let g = Gathered::new(events);
    g.convs
        .iter()
        .map(|c| {
            format!(
                "{}; {} ({}), {} + {} messages",
                words::conv_title(c),
                c.state.code(),
                state_word(&g, c),
                c.messages_c2s,
                c.messages_s2c
            )
        })
        .collect()
}

/// The text of `view` for a capture's events.
pub fn render(events: &[Event], view: View, style: &Style) -> String {
    let g = Gathered::new(events);
    let mut out = g.summary.and_then(drop_warning).unwrap_or_default();
    out.push_str(&match view {
        View::Conversations => {
            let mut out = table::render(&g, style);
            out.push_str(&totals(&g));
            out
        }
        View::Messages => messages(events, style),
        View::Flow => flow::render(&g, None, style),
        View::Explain => explain(&g, style, None),
    });
    out
}

/// The capture-wide warning at the top of the report when a live capture dropped
/// frames: what it means for everything below.
pub fn drop_warning(s: &Summary) -> Option<String> {
    let kernel = u64::from(s.dropped.unwrap_or(0));
    let queue = s.queue_dropped.unwrap_or(0);
    if kernel + queue == 0 {
        return None;
    }
    Some(format!(
        "WARNING: the capture dropped {} ({kernel} by the kernel, {queue} by labsniff's queue): \
         labsniff fell behind the traffic, so messages in those frames are missing, and gaps, lost \
         segments and TCP analysis flags marked \"the capture dropped frames here\" come from the \
         capture, not from the network.\n\n",
        words::count(kernel + queue, "frame")
    ))
}

/// The explain report with the system calls of `traces` joined in (a "System calls"
/// section per traced conversation, notes on threads and readiness, and what each
/// trace gave); other views as [`render`].
pub fn render_with_syscalls(
    events: &[Event],
    view: View,
    style: &Style,
    traces: &crate::syscalls::Joined,
) -> String {
    match view {
        View::Explain => explain(&Gathered::new(events), style, Some(traces)),
        View::Flow => render_flow_with_syscalls(events, None, style, traces),
        other => render(events, other, style),
    }
}

/// The flow graph with an application lane on each side: the traced programs' calls
/// at their time among the packets.
pub fn render_flow_with_syscalls(
    events: &[Event],
    conv: Option<u64>,
    style: &Style,
    traces: &crate::syscalls::Joined,
) -> String {
    flow::render_lanes(&Gathered::new(events), conv, style, Some(&lanes(traces)))
}

/// Each traced conversation's calls, as lane rows.
fn lanes(traces: &crate::syscalls::Joined) -> BTreeMap<u64, Vec<flow::LaneCall>> {
    traces
        .sockets
        .iter()
        .map(|(conv, sockets)| (*conv, flow::lane_calls(sockets)))
        .collect()
}

/// The SVG flow graph with each side's system calls in its lane.
pub fn render_svg_with_syscalls(
    events: &[Event],
    conv: Option<u64>,
    traces: &crate::syscalls::Joined,
) -> String {
    svg::render_svg_lanes(events, conv, Some(&lanes(traces)))
}

/// The facts of every traced conversation.
pub fn syscall_facts(
    events: &[Event],
    traces: &crate::syscalls::Joined,
) -> Vec<crate::syscalls::facts::ConvFacts> {
    let g = Gathered::new(events);
    conv_facts(&g, traces)
}

fn conv_facts(
    g: &Gathered<'_>,
    traces: &crate::syscalls::Joined,
) -> Vec<crate::syscalls::facts::ConvFacts> {
    g.convs
        .iter()
        .filter_map(|c| {
            let sockets = traces.sockets.get(&c.conv)?;
            Some(crate::syscalls::facts::conversation(
                c,
                g.messages_of(c.conv),
                sockets,
            ))
        })
        .collect()
}

/// The flow graph of conversation `conv` only (or of all, as [`View::Flow`]).
pub fn render_flow(events: &[Event], conv: Option<u64>, style: &Style) -> String {
    flow::render(&Gathered::new(events), conv, style)
}

/// Conversations explained one by one; a long capture's others are in the table.
pub(crate) const SECTIONS_MAX: usize = 100;

pub(crate) use loss::capture_point_note;

/// For the HTML page: the explain report's sections of one conversation, as the text
/// report writes them (no colour); `mapped` as in [`Said`] (the byte map of the first
/// v2 and the first v3 conversation).
pub(crate) fn conversation_text(
    g: &Gathered<'_>,
    conv: &crate::event::ConversationRecord,
    mapped: &mut Vec<Proto>,
) -> String {
    let mut out = String::new();
    let mut said = Said {
        mapped: std::mem::take(mapped),
        share: share::Share::inline(),
        ..Said::default()
    };
    conversation(
        &mut out,
        g,
        conv,
        &[],
        None,
        &mut said,
        &Style { color: false },
    );
    *mapped = said.mapped;
    out
}

/// For the HTML page: the notes about the whole capture (no traces).
pub(crate) fn capture_notes_plain(g: &Gathered<'_>) -> Vec<String> {
    capture_notes(g, &[], None)
}

/// The explain report: "In short" ([`answers`]), the table, the explanations several
/// conversations share said once ([`share`]), a section per conversation (the first
/// [`SECTIONS_MAX`]) with what differs, notes about the whole capture, the legend, the
/// totals.
fn explain(g: &Gathered<'_>, style: &Style, traces: Option<&crate::syscalls::Joined>) -> String {
    let facts = traces.map(|t| conv_facts(g, t)).unwrap_or_default();
    let mut out = answers::block(g, shown_concurrency(g, &facts), style);
    out.push_str(&table::render(g, style));
    // First who says what (the text is dropped), then the report, each shared
    // explanation said once.
    let mut collected = Said {
        share: share::Share::collecting(),
        ..Said::default()
    };
    let mut dropped = String::new();
    for conv in g.convs.iter().take(SECTIONS_MAX) {
        conversation(&mut dropped, g, conv, &facts, traces, &mut collected, style);
    }
    let mut said = Said {
        share: collected.share.printing(),
        ..Said::default()
    };
    out.push_str(&said.share.block(style));
    for conv in g.convs.iter().take(SECTIONS_MAX) {
        conversation(&mut out, g, conv, &facts, traces, &mut said, style);
    }
    if g.convs.len() > SECTIONS_MAX {
        let _ = writeln!(
            out,
            "\n... and {} more conversations (the table above lists them all)",
            g.convs.len() - SECTIONS_MAX
        );
    }
    said.diagnostics += whole_capture(&mut out, g, &facts, traces, style);
    out.push_str(&legend(g, said.lists.counted(), style));
    out.push_str(&totals(g));
    out.push_str(&diagnostics_printed(g, said.diagnostics));
    out
}

/// What the explain report has said so far, as later parts need it.
#[derive(Debug, Default)]
struct Said {
    /// Protocols whose byte map was drawn: of the first v2 and the first v3
    /// conversation only.
    mapped: Vec<Proto>,
    /// Diagnostics printed (the closing line counts the others).
    diagnostics: usize,
    /// The frame lists written (the legend explains their counted form).
    lists: FrameLists,
    /// The explanations said once for several conversations.
    share: share::Share,
}

/// The sections of one conversation: ports, handshake and loss (TCP), framing,
/// echoes, system calls (when traced), diagnostics.
fn conversation(
    out: &mut String,
    g: &Gathered<'_>,
    conv: &crate::event::ConversationRecord,
    facts: &[crate::syscalls::facts::ConvFacts],
    traces: Option<&crate::syscalls::Joined>,
    said: &mut Said,
    style: &Style,
) {
    let link = g.summary.and_then(|s| s.link_type);
    out.push('\n');
    let _ = writeln!(out, "{}", style.heading(&words::conv_title(conv)));
    let _ = writeln!(out, "  Wireshark filter: {}", words::conv_filter(conv));
    out.push_str(&ports::section(
        conv,
        link,
        g.causes_of(conv.conv),
        &mut said.share,
        style,
    ));
    if conv.tcp.is_some() {
        out.push_str(&handshake::section(conv, &mut said.share, style));
        out.push_str(&loss::section(
            conv,
            g.analysis_of(conv.conv),
            g.causes_of(conv.conv),
            style,
        ));
        out.push_str(&causes::section(g.causes_of(conv.conv), style));
        out.push_str(&round_trips::section(conv, style));
    } else {
        out.push_str(&causes::section(g.causes_of(conv.conv), style));
    }
    let messages = g.messages_of(conv.conv);
    let byte_map = byte_map_wanted(g, conv, &mut said.mapped);
    let traced = facts.iter().find(|f| f.conv == conv.conv);
    // Both programs traced: the calls say how the bytes were written, no guess.
    let writes_known = traced.is_some_and(|f| f.sides.len() == 2);
    out.push_str(&framing::section(
        conv,
        messages,
        byte_map,
        writes_known,
        &mut said.lists,
        &mut said.share,
        style,
    ));
    // Nothing was sent: there is nothing to pair.
    if conv.bytes_c2s + conv.bytes_s2c > 0 {
        out.push_str(&echoes::section(
            conv,
            messages,
            g.echoes_of(conv.conv),
            g.causes_of(conv.conv),
            &mut said.lists,
            &mut said.share,
            style,
        ));
    }
    if let (Some(f), Some(t)) = (traced, traces) {
        out.push_str(&syscalls::section(
            conv,
            messages,
            f,
            t,
            &mut said.lists,
            style,
        ));
    }
    let diags = g.diags_of(conv.conv);
    said.diagnostics += diags.len().min(diagnostics::LIST_MAX);
    out.push_str(&diagnostics::section(
        conv,
        messages,
        diags,
        &mut said.share,
        style,
    ));
    // The diagnostics section names the frames of the truncated v2 messages it lists
    // (the first LIST_MAX) with words::frames.
    for m in messages
        .iter()
        .filter(|m| m.truncated)
        .take(diagnostics::LIST_MAX)
    {
        said.lists.note(&m.frames);
    }
}

/// Whether `conv`'s framing section draws a byte map: for the first v2 and the first
/// v3 conversation (noted in `mapped`).
fn byte_map_wanted(
    g: &Gathered<'_>,
    conv: &crate::event::ConversationRecord,
    mapped: &mut Vec<Proto>,
) -> bool {
    // Not of a sender that packed with a wrong struct format: the map shows the lab's
    // reading, which is not what that sender meant.
    let mistaken = g
        .diags_of(conv.conv)
        .iter()
        .any(|d| d.kind.is_struct_mistake());
    match conv.proto {
        Some(p @ (Proto::V2 | Proto::V3)) if !mapped.contains(&p) && !mistaken => {
            mapped.push(p);
            true
        }
        _ => false,
    }
}

/// "About the whole capture": the capture-wide notes and diagnostics, when there are
/// any. Returns how many diagnostics it printed.
fn whole_capture(
    out: &mut String,
    g: &Gathered<'_>,
    facts: &[crate::syscalls::facts::ConvFacts],
    traces: Option<&crate::syscalls::Joined>,
    style: &Style,
) -> usize {
    let notes = capture_notes(g, facts, traces);
    if notes.is_empty() && g.capture_diags.is_empty() {
        return 0;
    }
    out.push('\n');
    let _ = writeln!(out, "{}", style.heading("About the whole capture"));
    for note in notes {
        out.push_str(&words::bullet(&note));
    }
    out.push_str(&diagnostics::capture(&g.capture_diags, style));
    g.capture_diags.len()
}

/// How the server served its clients, as the report says it: when the trace shows it,
/// the capture's guess that it served one at a time gives way (the trace note says it
/// as a fact); a proof from the packets stays.
fn shown_concurrency(
    g: &Gathered<'_>,
    facts: &[crate::syscalls::facts::ConvFacts],
) -> Option<crate::analysis::capture::Concurrency> {
    let model = crate::syscalls::facts::server_model(facts);
    let served: usize = model.threads.iter().map(|t| t.served.len()).sum();
    let concurrency = g.concurrency();
    let guess = matches!(
        concurrency,
        Some(crate::analysis::capture::Concurrency::Iterative { .. })
    );
    concurrency.filter(|_| served < 2 || !guess)
}

/// Notes about the whole capture: client ports and server addresses, how the server
/// served its clients, and (traced) threads, readiness and the traces themselves.
fn capture_notes(
    g: &Gathered<'_>,
    facts: &[crate::syscalls::facts::ConvFacts],
    traces: Option<&crate::syscalls::Joined>,
) -> Vec<String> {
    let mut notes = ports::capture_notes(&g.convs);
    let model = crate::syscalls::facts::server_model(facts);
    notes.extend(
        shown_concurrency(g, facts).and_then(|fact| words::concurrency_note(fact, &g.convs)),
    );
    if let Some(t) = traces {
        notes.extend(syscalls::capture_notes(&g.convs, &model, t));
    }
    notes
}

/// The closing line when fewer diagnostics were printed than the capture has.
fn diagnostics_printed(g: &Gathered<'_>, printed: usize) -> String {
    let Some(s) = g.summary else {
        return String::new();
    };
    let printed = printed as u64;
    if printed >= s.diagnostics {
        return String::new();
    }
    format!(
        "({printed} of the {} diagnostics are printed above: the report explains the first {SECTIONS_MAX} \
         conversations and at most {} diagnostics of each; --json lists them all)\n",
        s.diagnostics,
        diagnostics::LIST_MAX
    )
}

/// The frame lists the explain report wrote, as far as its legend needs them: whether
/// any took the counted-range form that the legend's "frames A–B (N segments)"
/// explains. Sections write their lists through it, so the legend follows what was
/// printed (loss writes its own spans: a list of more than 4 frames as `20 frames, 74
/// to 141`, so the lists it gives [`words::frames`] are never counted).
#[derive(Debug, Default)]
pub(crate) struct FrameLists {
    counted: bool,
}

impl FrameLists {
    /// [`words::frames`], noted.
    pub(crate) fn frames(&mut self, list: &[u64]) -> String {
        self.note(list);
        words::frames(list)
    }

    /// [`words::frames_into`], noted.
    pub(crate) fn frames_into(&mut self, out: &mut String, list: &[u64]) {
        self.note(list);
        words::frames_into(out, list);
    }

    /// A list written with [`words::frames`] elsewhere (the byte map, the diagnostics'
    /// truncated messages).
    pub(crate) fn note(&mut self, list: &[u64]) {
        self.counted |= words::frames_counted(list);
    }

    /// Whether some list was written in the counted-range form.
    fn counted(&self) -> bool {
        self.counted
    }
}

/// What the table's state codes and the detection scores mean; `counted_lists`: some
/// frame list was written in the counted-range form (see [`FrameLists`]).
fn legend(g: &Gathered<'_>, counted_lists: bool, style: &Style) -> String {
    let mut out = String::new();
    let mut states: Vec<(crate::event::TransportKind, crate::event::ZeekState)> = Vec::new();
    for c in &g.convs {
        if !states.contains(&(c.transport, c.state)) {
            states.push((c.transport, c.state));
        }
    }
    if states.is_empty() {
        return out;
    }
    out.push('\n');
    let _ = writeln!(out, "{}", style.heading("Legend"));
    let icmp_marked = g
        .convs
        .iter()
        .any(|c| state_word(g, c) != words::state(c.transport, c.state).0);
    for (t, state) in states {
        let (_, sentence) = words::state(t, state);
        let marked = if icmp_marked
            && t == crate::event::TransportKind::Udp
            && state == crate::event::ZeekState::S0
        {
            "; \"ICMP port unreachable\" in the table: the server's host answered the datagrams \
             with ICMP port unreachable errors (not a reply from a program): nothing was bound \
             to the port there"
        } else {
            ""
        };
        out.push_str(&words::bullet(&format!(
            "{} {} (Zeek's conn_state code): {sentence}{marked}",
            words::transport(t),
            state.code()
        )));
    }
    let detected = g.conv_diags().any(|d| d.kind.has_detection_scores());
    if detected {
        out.push_str(&words::bullet(
            "detection scores (0–100): how well the first bytes of a direction fit each lab format; v2 \
             checks 29-byte records (version byte, plausible sizes, NUL padding), v3 checks that each \
             9-byte header's size lands exactly on the next header, text the share of printable bytes; \
             the highest score of at least 50 decides (ties go to v2, then v3), and --proto overrides it",
        ));
    }
    if counted_lists {
        out.push_str(&words::bullet(
        "frames A–B (N segments): the N frames that carried the bytes lie between frames A and B; the \
         frames in between carried other packets (ACKs, the other direction, other conversations)",
    ));
    }
    let text_tcp = g
        .convs
        .iter()
        .any(|c| c.transport == crate::event::TransportKind::Tcp && c.proto == Some(Proto::Text));
    if text_tcp {
        out.push_str(&words::bullet(
        "background for exercise 3.2 (the capture cannot show which server model ran): a selector \
         server registers each socket with sel.register(sock, events, data); sel.select() returns a \
         (key, mask) pair per ready socket, where key.fileobj is the socket and key.data what was \
         registered with it. labnet's selector server logs each registration as \"selector token N\", \
         its counterpart of a key (token 0 is the listening socket, then one per accepted client)",
    ));
    }
    out
}

fn totals(g: &Gathered<'_>) -> String {
    match g.summary {
        Some(s) => format!("\n{}\n", crate::words::summary::line(s)),
        None => String::new(),
    }
}

/// The per-message listing, exactly as the plain output prints it.
fn messages(events: &[Event], style: &Style) -> String {
    use crate::event::Sink;
    let mut buf: Vec<u8> = Vec::new();
    {
        let mut sink = crate::output::plain::PlainSink::new(&mut buf, style.color, false);
        for event in events {
            // Writing into a Vec cannot fail.
            let _ = sink.emit(event.clone());
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod explain_tests;

#[cfg(test)]
mod tests;
