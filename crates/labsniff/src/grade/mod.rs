//! `labsniff grade`: whether each submitted capture shows what an exercise requires.
//!
//! The requirements of every exercise live in one table, [`EXERCISES`]; each one is a
//! function of the facts the normal analysis already produced (conversation records,
//! messages, diagnostics, [`crate::analysis::capture`]'s concurrency proof): grading
//! never looks at packets itself. Every verdict carries its evidence and the frame
//! numbers a teacher can open in Wireshark.

pub mod output;

use crate::analysis::capture::Concurrency;
use crate::event::{
    ConversationRecord, Diagnostic, Dir, Event, MessageEvent, Summary, TransportKind,
};
use crate::output::collect::CollectSink;
use crate::{Input, Options, SourceOptions};
use labfacts::echoes::{Echo, EchoMatch};
use labfacts::index::CaptureIndex;
use labproto::Proto;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Frame numbers listed per requirement, at most.
const FRAMES_SHOWN: usize = 10;

/// One requirement of an exercise.
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// Stable name (the `name` of `--json`, a column of the table and the CSV).
    pub name: &'static str,
    /// What it asks for, in one line (`--list`).
    pub what: &'static str,
    eval: fn(&Facts) -> Verdict,
}

/// One exercise of the lab guide and what its capture must show.
#[derive(Debug, Clone, Copy)]
pub struct Exercise {
    pub id: &'static str,
    pub title: &'static str,
    pub requirements: &'static [Requirement],
}

const READABLE: Requirement = Requirement {
    name: "readable",
    what: "a pcap or pcapng file libpcap reads to its end, on a link type labsniff decodes",
    // Evaluated by `grade_file` itself: only it knows how reading went.
    eval: |_| Verdict::pass("", Vec::new()),
};
const UDP_DATAGRAMS: Requirement = Requirement {
    name: "udp_datagrams",
    what: "UDP datagrams sent to the lab port",
    eval: udp_datagrams,
};
const TWO_SOURCE_PORTS: Requirement = Requirement {
    name: "two_source_ports",
    what: "those datagrams come from at least two source ports (two clients)",
    eval: two_source_ports,
};
const TWO_TCP_CLIENTS: Requirement = Requirement {
    name: "two_tcp_clients",
    what: "at least two TCP clients on the lab port, each with its three-way handshake",
    eval: two_tcp_clients,
};
const TEXT_ECHOED: Requirement = Requirement {
    name: "text_echoed",
    what: "every TCP client's text echoed back byte for byte",
    eval: text_echoed,
};
const CONCURRENT: Requirement = Requirement {
    name: "served_concurrently",
    what: "the server answered one client while another, answered before, was still connected",
    eval: served_concurrently,
};
const V2_MESSAGES: Requirement = Requirement {
    name: "v2_messages",
    what: "the client sent v2 messages ('!BII20s'), exactly 29 bytes each",
    eval: v2_messages,
};
const V2_ECHOED: Requirement = Requirement {
    name: "v2_echoed",
    what: "every v2 message echoed byte for byte (order and size kept)",
    eval: v2_echoed,
};
const V3_MESSAGES: Requirement = Requirement {
    name: "v3_messages",
    what: "the client sent v3 messages ('!BII' + payload), each size field matching its payload",
    eval: v3_messages,
};
const V3_ECHOED: Requirement = Requirement {
    name: "v3_echoed",
    what: "every v3 message echoed byte for byte",
    eval: v3_echoed,
};
const V3_SEGMENTS: Requirement = Requirement {
    name: "v3_several_segments",
    what: "at least one v3 message carried by several TCP segments",
    eval: v3_several_segments,
};

/// The exercises and their requirements: the one table `--list` prints.
pub static EXERCISES: &[Exercise] = &[
    Exercise {
        id: "1.2",
        title: "UDP client(s) and server: source ports",
        requirements: &[READABLE, UDP_DATAGRAMS, TWO_SOURCE_PORTS],
    },
    Exercise {
        id: "2.2",
        title: "TCP text, a thread per client",
        requirements: &[READABLE, TWO_TCP_CLIENTS, TEXT_ECHOED, CONCURRENT],
    },
    Exercise {
        id: "3.2",
        title: "TCP text, a selector",
        requirements: &[READABLE, TWO_TCP_CLIENTS, TEXT_ECHOED, CONCURRENT],
    },
    Exercise {
        id: "4.2",
        title: "v2 fixed-size binary messages",
        requirements: &[READABLE, V2_MESSAGES],
    },
    Exercise {
        id: "4.3",
        title: "v2 with the server's echo",
        requirements: &[READABLE, V2_MESSAGES, V2_ECHOED],
    },
    Exercise {
        id: "5.2",
        title: "v3 variable-size binary messages",
        requirements: &[READABLE, V3_MESSAGES],
    },
    Exercise {
        id: "5.3",
        title: "v3 with the server's echo, a message over several segments",
        requirements: &[READABLE, V3_MESSAGES, V3_ECHOED, V3_SEGMENTS],
    },
];

/// The exercise with this id (`4.3`).
pub fn exercise(id: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.id == id)
}

/// One requirement's outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub name: &'static str,
    pub pass: bool,
    pub evidence: String,
    /// Frames that show it (or the closest miss), ascending, at most ten.
    pub frames: Vec<u64>,
}

impl Verdict {
    fn pass(evidence: impl Into<String>, frames: Vec<u64>) -> Verdict {
        Verdict::new(true, evidence, frames)
    }
    fn fail(evidence: impl Into<String>, frames: Vec<u64>) -> Verdict {
        Verdict::new(false, evidence, frames)
    }
    fn new(pass: bool, evidence: impl Into<String>, mut frames: Vec<u64>) -> Verdict {
        frames.sort_unstable();
        frames.dedup();
        frames.truncate(FRAMES_SHOWN);
        Verdict {
            name: "",
            pass,
            evidence: evidence.into(),
            frames,
        }
    }
}

/// One file's grade (one row; one object of `--json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grade {
    pub file: String,
    pub exercise: &'static str,
    pub pass: bool,
    pub requirements: Vec<Verdict>,
}

/// What the analysis of one capture said, as the requirements read it: labfacts' one
/// index of the events, with its derived facts (echo pairs, concurrency).
#[derive(Debug)]
pub struct Facts<'a> {
    pub port: u16,
    pub index: CaptureIndex<'a>,
    pub diagnostics: Vec<&'a Diagnostic>,
}

impl<'a> Facts<'a> {
    pub fn of(events: &'a [Event], port: u16) -> Facts<'a> {
        let index = CaptureIndex::new(events);
        let mut diagnostics: Vec<&Diagnostic> = index.conv_diags().collect();
        diagnostics.extend(index.capture_diags.iter().copied());
        Facts {
            port,
            index,
            diagnostics,
        }
    }

    /// Conversations to the lab port over `transport`.
    fn lab(&self, transport: TransportKind) -> Vec<&'a ConversationRecord> {
        self.index
            .convs
            .iter()
            .copied()
            .filter(|c| c.transport == transport && c.server.port() == self.port)
            .collect()
    }

    fn messages_of(&self, conv: u64, dir: Dir) -> Vec<&'a MessageEvent> {
        self.index.messages_in(conv, dir).collect()
    }

    /// The struct-mistake and framing diagnostics of `conv` (what labproto named).
    fn format_problems(&self, conv: u64) -> Vec<&'a Diagnostic> {
        self.diagnostics
            .iter()
            .copied()
            .filter(|d| d.conv == Some(conv) && d.kind.mistake().is_some())
            .collect()
    }
}

fn first_frame(m: &MessageEvent) -> u64 {
    m.frames.first().copied().unwrap_or(0)
}

/// "frames 3, 5, 9" (or "frame 3").
fn frames_text(frames: &[u64]) -> String {
    let mut frames = frames.to_vec();
    frames.sort_unstable();
    frames.dedup();
    let shown: Vec<String> = frames
        .iter()
        .take(FRAMES_SHOWN)
        .map(u64::to_string)
        .collect();
    let more = if frames.len() > FRAMES_SHOWN {
        ", …"
    } else {
        ""
    };
    match frames.len() {
        0 => "no frame".to_string(),
        1 => format!("frame {}", shown.join(", ")),
        _ => format!("frames {}{more}", shown.join(", ")),
    }
}

fn udp_datagrams(f: &Facts) -> Verdict {
    let frames: Vec<u64> = f
        .lab(TransportKind::Udp)
        .iter()
        .flat_map(|c| f.messages_of(c.conv, Dir::ClientToServer))
        .map(first_frame)
        .collect();
    if frames.is_empty() {
        return Verdict::fail(
            format!("no UDP datagram to port {} in the capture", f.port),
            Vec::new(),
        );
    }
    Verdict::pass(
        format!(
            "{} datagrams to port {} ({})",
            frames.len(),
            f.port,
            frames_text(&frames)
        ),
        frames,
    )
}

fn two_source_ports(f: &Facts) -> Verdict {
    let mut ports: Vec<(u16, u64)> = Vec::new();
    for c in f.lab(TransportKind::Udp) {
        let p = c.client.port();
        if c.frames_c2s > 0 && !ports.iter().any(|(q, _)| *q == p) {
            ports.push((p, c.first_frame));
        }
    }
    let text = ports
        .iter()
        .map(|(p, frame)| format!("{p} (frame {frame})"))
        .collect::<Vec<_>>()
        .join(", ");
    let frames = ports.iter().map(|(_, f)| *f).collect();
    match ports.len() {
        0 => Verdict::fail("no UDP client sent to the lab port", frames),
        1 => Verdict::fail(
            format!("one source port only: {text}; run a second client (or the client twice)"),
            frames,
        ),
        n => Verdict::pass(format!("{n} source ports: {text}"), frames),
    }
}

/// TCP conversations to the lab port with a whole handshake captured.
fn handshaken<'a>(f: &Facts<'a>) -> Vec<&'a ConversationRecord> {
    f.lab(TransportKind::Tcp)
        .into_iter()
        .filter(|c| {
            c.tcp
                .as_ref()
                .is_some_and(|t| t.syn_frame.is_some() && t.ack_frame.is_some())
        })
        .collect()
}

fn two_tcp_clients(f: &Facts) -> Verdict {
    let convs = handshaken(f);
    let frames: Vec<u64> = convs
        .iter()
        .filter_map(|c| c.tcp.as_ref().and_then(|t| t.syn_frame))
        .collect();
    let text = convs
        .iter()
        .map(|c| {
            format!(
                "{} (SYN frame {})",
                c.client,
                c.tcp.as_ref().and_then(|t| t.syn_frame).unwrap_or(0)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    match convs.len() {
        0 => Verdict::fail(
            format!(
                "no TCP connection to port {} with its handshake (SYN, SYN-ACK, ACK)",
                f.port
            ),
            frames,
        ),
        1 => Verdict::fail(
            format!("one TCP client only: {text}; connect a second client"),
            frames,
        ),
        n => Verdict::pass(format!("{n} clients: {text}"), frames),
    }
}

fn text_echoed(f: &Facts) -> Verdict {
    let convs: Vec<_> = f
        .lab(TransportKind::Tcp)
        .into_iter()
        .filter(|c| c.bytes_c2s > 0)
        .collect();
    if convs.is_empty() {
        return Verdict::fail("no TCP client sent anything to the lab port", Vec::new());
    }
    let mut frames = Vec::new();
    for c in &convs {
        if c.proto != Some(Proto::Text) {
            return Verdict::fail(
                format!(
                    "conversation {} ({}) carries {}, not text",
                    c.conv,
                    c.client,
                    c.proto.map_or("nothing", Proto::as_str)
                ),
                vec![c.first_frame],
            );
        }
        let bytes = |dir| -> usize {
            f.index
                .messages_in(c.conv, dir)
                .map(|m| m.payload_bytes.len())
                .sum()
        };
        let (sent, back) = (bytes(Dir::ClientToServer), bytes(Dir::ServerToClient));
        // Every server message an echo, at the client's stream offsets, and as many
        // bytes back as sent: every byte echoed.
        if sent != back || !all_answer(f.index.messages_of(c.conv), f.index.echoes_of(c.conv)) {
            let at = c.first_payload_s2c.map_or(c.first_frame, |p| p.frame);
            return Verdict::fail(
                format!(
                    "conversation {} ({}): {sent} bytes sent, {back} echoed{}",
                    c.conv,
                    c.client,
                    if back == 0 { "" } else { " and they differ" }
                ),
                vec![at],
            );
        }
        if let Some(p) = c.first_payload_s2c {
            frames.push(p.frame);
        }
    }
    Verdict::pass(
        format!(
            "{} clients, every byte echoed (first echoes: {})",
            convs.len(),
            frames_text(&frames)
        ),
        frames,
    )
}

/// Every server message is an echo (labfacts' pairs: for text over TCP, the same
/// bytes at the same stream offsets as the client's).
fn all_answer(messages: &[&MessageEvent], echoes: &[Echo]) -> bool {
    let servers = messages
        .iter()
        .filter(|m| m.dir == Dir::ServerToClient)
        .count();
    servers == echoes.len()
}

fn served_concurrently(f: &Facts) -> Verdict {
    match f.index.concurrency() {
        Some(Concurrency::Proven {
            earlier,
            earlier_answer,
            later,
            later_answer,
            earlier_end,
        }) => {
            let end = match earlier_end {
                Some(e) => format!("it ended only at frame {e}"),
                None => "it had not ended when the capture stopped".to_string(),
            };
            Verdict::pass(
                format!(
                    "the server answered conversation {earlier} (frame {earlier_answer}), then \
                     conversation {later} (frame {later_answer}) while {earlier} was still \
                     connected: {end}"
                ),
                [Some(earlier_answer), Some(later_answer), earlier_end]
                    .into_iter()
                    .flatten()
                    .collect(),
            )
        }
        Some(Concurrency::Iterative {
            earlier,
            earlier_end,
            later,
            later_request,
            later_answer,
            ..
        }) => Verdict::fail(
            format!(
                "one client at a time: conversation {later} asked at frame {later_request} but \
                 was answered only at frame {later_answer}, after conversation {earlier} ended \
                 at frame {earlier_end}"
            ),
            vec![earlier_end, later_request, later_answer],
        ),
        Some(Concurrency::Unknown {
            connections,
            overlapped,
        }) => Verdict::fail(
            format!(
                "not shown: {connections} connections{}, but no answer to one client while \
                 another, answered before, was connected; keep client 1 open while client 2 \
                 sends",
                if overlapped {
                    " overlapped"
                } else {
                    " one after the other"
                }
            ),
            Vec::new(),
        ),
        None => Verdict::fail(
            "fewer than two TCP connections to the server: concurrency cannot show",
            Vec::new(),
        ),
    }
}

/// The lab-port TCP conversations carrying `proto`, or the verdict why there are none.
fn binary_convs<'a>(f: &Facts<'a>, proto: Proto) -> Result<Vec<&'a ConversationRecord>, Verdict> {
    let tcp = f.lab(TransportKind::Tcp);
    // A format problem labproto named is the best evidence of all.
    for c in &tcp {
        if let Some(d) = f.format_problems(c.conv).first() {
            return Err(Verdict::fail(
                format!(
                    "conversation {} ({}): {}",
                    c.conv,
                    c.client,
                    crate::words::diagnostic::text(d)
                ),
                d.frame.into_iter().collect(),
            ));
        }
    }
    let convs: Vec<_> = tcp
        .iter()
        .copied()
        .filter(|c| c.proto == Some(proto))
        .collect();
    if convs.is_empty() {
        let seen: Vec<String> = tcp
            .iter()
            .filter_map(|c| c.proto.map(|p| format!("{} ({p})", c.conv)))
            .collect();
        return Err(Verdict::fail(
            if seen.is_empty() {
                format!("no TCP conversation to port {} carried data", f.port)
            } else {
                format!(
                    "no {proto} conversation; conversations seen: {}",
                    seen.join(", ")
                )
            },
            tcp.iter().map(|c| c.first_frame).collect(),
        ));
    }
    Ok(convs)
}

fn binary_messages(f: &Facts, proto: Proto) -> Verdict {
    let convs = match binary_convs(f, proto) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let mut frames = Vec::new();
    let mut count = 0;
    for c in &convs {
        let sent = f.messages_of(c.conv, Dir::ClientToServer);
        let framed: u64 = sent
            .iter()
            .map(|m| {
                if proto == Proto::V2 {
                    labproto::v2::MESSAGE_LEN as u64
                } else {
                    labproto::v3::HEADER_LEN as u64 + m.payload_bytes.len() as u64
                }
            })
            .sum();
        // The collector keeps the first messages of each conversation only: the byte
        // count can be compared when every message was kept.
        let all_kept = sent.len() as u64 == c.messages_c2s;
        if sent.is_empty() || (all_kept && framed != c.bytes_c2s) {
            return Verdict::fail(
                format!(
                    "conversation {} ({}): the client sent {} bytes, of which {} make whole \
                     {proto} messages",
                    c.conv, c.client, c.bytes_c2s, framed
                ),
                sent.iter().map(|m| first_frame(m)).collect(),
            );
        }
        count += c.messages_c2s;
        frames.extend(sent.iter().map(|m| first_frame(m)));
    }
    let each = if proto == Proto::V2 {
        "29 bytes each"
    } else {
        "each size field matching its payload"
    };
    Verdict::pass(
        format!(
            "{count} {proto} messages in {} conversations, {each} ({})",
            convs.len(),
            frames_text(&frames)
        ),
        frames,
    )
}

fn v2_messages(f: &Facts) -> Verdict {
    binary_messages(f, Proto::V2)
}

fn v3_messages(f: &Facts) -> Verdict {
    binary_messages(f, Proto::V3)
}

fn binary_echoed(f: &Facts, proto: Proto) -> Verdict {
    let convs = match binary_convs(f, proto) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let mut frames = Vec::new();
    let mut count = 0;
    for c in &convs {
        let messages = f.index.messages_of(c.conv);
        let echoes = f.index.echoes_of(c.conv);
        if let Err(v) = each_echoed(c.conv, messages, echoes, &mut frames) {
            return v;
        }
        count += echoes.len();
        let sent = messages
            .iter()
            .filter(|m| m.dir == Dir::ClientToServer)
            .count();
        let back = messages.len() - sent;
        if back > echoes.len() {
            return Verdict::fail(
                format!(
                    "conversation {}: {sent} messages sent but {back} came back",
                    c.conv
                ),
                messages
                    .iter()
                    .filter(|m| m.dir == Dir::ServerToClient)
                    .map(|m| first_frame(m))
                    .collect(),
            );
        }
    }
    if count == 0 {
        return Verdict::fail(format!("no {proto} message from a client"), Vec::new());
    }
    Verdict::pass(
        format!(
            "{count} messages echoed byte for byte ({})",
            frames_text(&frames)
        ),
        frames,
    )
}

/// Every client message of one conversation has an echo that repeats it unchanged
/// (labfacts' echo pairs); the first that has none, or a changed one, is the verdict.
fn each_echoed(
    conv: u64,
    messages: &[&MessageEvent],
    echoes: &[Echo],
    frames: &mut Vec<u64>,
) -> Result<(), Verdict> {
    // Each client message's first echo, by message index.
    let mut echo_of: Vec<Option<&Echo>> = vec![None; messages.len()];
    for e in echoes {
        for &i in e.clients.as_slice() {
            if let Some(slot @ None) = echo_of.get_mut(i) {
                *slot = Some(e);
            }
        }
    }
    for (i, m) in messages.iter().enumerate() {
        if m.dir != Dir::ClientToServer {
            continue;
        }
        let Some((e, back)) = echo_of
            .get(i)
            .copied()
            .flatten()
            .and_then(|e| Some((e, messages.get(e.server)?)))
        else {
            return Err(Verdict::fail(
                format!(
                    "conversation {conv}: message order={} (frame {}) was never echoed",
                    m.order.unwrap_or(0),
                    first_frame(m)
                ),
                vec![first_frame(m)],
            ));
        };
        let changed = changes(m, back, e.how);
        if !changed.is_empty() {
            return Err(Verdict::fail(
                format!(
                    "conversation {conv}: the echo (frame {}) of message order={} (frame {}) \
                     changed it: {}",
                    first_frame(back),
                    m.order.unwrap_or(0),
                    first_frame(m),
                    changed.join(", ")
                ),
                vec![first_frame(m), first_frame(back)],
            ));
        }
        frames.push(first_frame(back));
    }
    Ok(())
}

/// What an echo changed of the message it answers (the pairing keeps the order field).
fn changes(m: &MessageEvent, back: &MessageEvent, how: EchoMatch) -> Vec<String> {
    let mut changed = Vec::new();
    if m.version != back.version {
        changed.push(format!("version {:?} → {:?}", m.version, back.version));
    }
    if m.size != back.size {
        changed.push(format!(
            "size {} → {}",
            m.size.unwrap_or(0),
            back.size.unwrap_or(0)
        ));
    }
    if how == EchoMatch::SameOrderOtherPayload {
        changed.push("payload differs".to_string());
    }
    changed
}

fn v2_echoed(f: &Facts) -> Verdict {
    binary_echoed(f, Proto::V2)
}

fn v3_echoed(f: &Facts) -> Verdict {
    binary_echoed(f, Proto::V3)
}

fn v3_several_segments(f: &Facts) -> Verdict {
    let convs = match binary_convs(f, Proto::V3) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let multi = convs
        .iter()
        .flat_map(|c| {
            f.index
                .messages_of(c.conv)
                .iter()
                .filter(|m| m.frames.len() > 1)
        })
        .next();
    match multi {
        Some(m) => Verdict::pass(
            format!(
                "the {} message order={} size={} was carried by {} segments ({})",
                m.dir.sender(),
                m.order.unwrap_or(0),
                m.size.unwrap_or(0),
                m.frames.len(),
                frames_text(&m.frames)
            ),
            m.frames.clone(),
        ),
        None => Verdict::fail(
            "every v3 message fit in one segment: send a long one (e.g. 100 kB) so TCP splits it",
            Vec::new(),
        ),
    }
}

/// Grade one file: read it with the normal analysis, then evaluate the requirements.
/// Never fails: a file that cannot be read is a row whose `readable` says why.
pub fn grade_file(path: &Path, exercise: &'static Exercise, port: u16) -> Grade {
    let source = SourceOptions {
        input: Input::File(path.to_path_buf()),
        filter: None,
        write: None,
        count: None,
        stop: Arc::new(AtomicBool::new(false)),
        ready: None,
    };
    let options = Options {
        port,
        proto: None,
        max_ooo_bytes: 1 << 20,
        max_size: labproto::DEFAULT_MAX_SIZE,
        port_choice: crate::port_choice::PortChoice::plain(crate::port_choice::How::Given),
    };
    let mut sink = CollectSink::new();
    let file = path.display().to_string();
    let readable = match crate::analyze(&source, options, &mut sink) {
        // The row names the file already: only libpcap's (or our) reason.
        Err(crate::SourceError::OpenFile { reason, .. }) if reason == "unknown file format" => {
            Err("not a pcap or pcapng file (unknown file format)".to_string())
        }
        Err(crate::SourceError::OpenFile { reason, .. }) => Err(reason),
        Err(e) => Err(e.to_string()),
        Ok(summary) => readable(&sink.events, &summary),
    };
    let mut requirements = Vec::with_capacity(exercise.requirements.len());
    match readable {
        Err(reason) => {
            requirements.push(Verdict {
                name: READABLE.name,
                ..Verdict::fail(reason, Vec::new())
            });
        }
        Ok(evidence) => {
            let facts = Facts::of(&sink.events, port);
            for r in exercise.requirements {
                let verdict = if r.name == READABLE.name {
                    Verdict::pass(evidence.clone(), Vec::new())
                } else {
                    (r.eval)(&facts)
                };
                requirements.push(Verdict {
                    name: r.name,
                    ..verdict
                });
            }
        }
    }
    Grade {
        file,
        exercise: exercise.id,
        // Unreadable files have only the `readable` verdict: they fail.
        pass: requirements.len() == exercise.requirements.len()
            && requirements.iter().all(|v| v.pass),
        requirements,
    }
}

/// Whether the capture read cleanly: evidence, or the reason it is damaged or foreign.
fn readable(events: &[Event], summary: &Summary) -> Result<String, String> {
    if let Some(d) = events.iter().find_map(|e| match e {
        Event::Diagnostic(d)
            if matches!(d.kind, crate::event::DiagnosticKind::CaptureCut { .. }) =>
        {
            Some(d)
        }
        _ => None,
    }) {
        return Err(format!("damaged: {}", crate::words::diagnostic::text(d)));
    }
    if summary.link_type.is_none() {
        return Err(format!(
            "foreign link type: labsniff cannot decode its {} frames",
            summary.frames
        ));
    }
    Ok(format!(
        "{} frames, link type {}",
        summary.frames,
        summary.link_type.unwrap_or("unknown")
    ))
}

/// The files to grade: each FILE, and the files (not subfolders) of each folder, sorted.
pub fn expand(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        match std::fs::read_dir(p) {
            Ok(dir) => {
                let mut files: Vec<PathBuf> = dir
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| !p.is_dir())
                    .collect();
                files.sort();
                out.extend(files);
            }
            // Not a folder (or unreadable): graded as a file, which says why.
            Err(_) => out.push(p.clone()),
        }
    }
    out
}
