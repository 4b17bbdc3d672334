//! `labsniff grade`: whether each submitted capture shows what an exercise requires.
//!
//! The requirements of every exercise live in one table, [`EXERCISES`]; each one is a
//! function of the facts the normal analysis already produced (conversation records,
//! messages, diagnostics, [`crate::analysis::capture`]'s concurrency proof): grading
//! never looks at packets itself. Every verdict carries its evidence and the frame
//! numbers a teacher can open in Wireshark.

pub mod output;

use crate::analysis::capture::{concurrency, Concurrency};
use crate::event::{
    ConversationRecord, Diagnostic, Dir, Event, MessageEvent, Summary, TransportKind,
};
use crate::output::collect::CollectSink;
use crate::{Input, Options, SourceOptions};
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

/// What the analysis of one capture said, as the requirements read it.
#[derive(Debug)]
pub struct Facts<'a> {
    pub port: u16,
    pub convs: Vec<&'a ConversationRecord>,
    pub messages: Vec<&'a MessageEvent>,
    pub diagnostics: Vec<&'a Diagnostic>,
}

impl<'a> Facts<'a> {
    pub fn of(events: &'a [Event], port: u16) -> Facts<'a> {
        let mut f = Facts {
            port,
            convs: Vec::new(),
            messages: Vec::new(),
            diagnostics: Vec::new(),
        };
        for e in events {
            match e {
                Event::Conversation(c) => f.convs.push(c),
                Event::Message(m) => f.messages.push(m),
                Event::Diagnostic(d) => f.diagnostics.push(d),
                _ => {}
            }
        }
        f.convs.sort_by_key(|c| c.conv);
        f
    }

    /// Conversations to the lab port over `transport`.
    fn lab(&self, transport: TransportKind) -> Vec<&'a ConversationRecord> {
        self.convs
            .iter()
            .copied()
            .filter(|c| c.transport == transport && port_of(&c.server) == Some(self.port))
            .collect()
    }

    fn messages_of(&self, conv: u64, dir: Dir) -> Vec<&'a MessageEvent> {
        self.messages
            .iter()
            .copied()
            .filter(|m| m.conv == conv && m.dir == dir)
            .collect()
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

fn port_of(addr: &str) -> Option<u16> {
    addr.rsplit(':').next()?.parse().ok()
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
        if let Some(p) = port_of(&c.client) {
            if c.frames_c2s > 0 && !ports.iter().any(|(q, _)| *q == p) {
                ports.push((p, c.first_frame));
            }
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
        let sent: Vec<u8> = f
            .messages_of(c.conv, Dir::ClientToServer)
            .iter()
            .flat_map(|m| m.payload_bytes.iter().copied())
            .collect();
        let back: Vec<u8> = f
            .messages_of(c.conv, Dir::ServerToClient)
            .iter()
            .flat_map(|m| m.payload_bytes.iter().copied())
            .collect();
        if c.proto != Some("text") {
            return Verdict::fail(
                format!(
                    "conversation {} ({}) carries {}, not text",
                    c.conv,
                    c.client,
                    c.proto.unwrap_or("nothing")
                ),
                vec![c.first_frame],
            );
        }
        if sent != back {
            let at = c.first_payload_s2c.map_or(c.first_frame, |p| p.frame);
            return Verdict::fail(
                format!(
                    "conversation {} ({}): {} bytes sent, {} echoed{}",
                    c.conv,
                    c.client,
                    sent.len(),
                    back.len(),
                    if back.is_empty() {
                        ""
                    } else {
                        " and they differ"
                    }
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

fn served_concurrently(f: &Facts) -> Verdict {
    let convs = f.lab(TransportKind::Tcp);
    match concurrency(&convs) {
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
fn binary_convs<'a>(f: &Facts<'a>, proto: &str) -> Result<Vec<&'a ConversationRecord>, Verdict> {
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

fn binary_messages(f: &Facts, proto: &str) -> Verdict {
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
                if proto == "v2" {
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
    let each = if proto == "v2" {
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
    binary_messages(f, "v2")
}

fn v3_messages(f: &Facts) -> Verdict {
    binary_messages(f, "v3")
}

fn binary_echoed(f: &Facts, proto: &str) -> Verdict {
    let convs = match binary_convs(f, proto) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let mut frames = Vec::new();
    let mut count = 0;
    for c in &convs {
        let sent = f.messages_of(c.conv, Dir::ClientToServer);
        let back = f.messages_of(c.conv, Dir::ServerToClient);
        for (i, m) in sent.iter().enumerate() {
            let Some(e) = back.get(i) else {
                return Verdict::fail(
                    format!(
                        "conversation {}: message order={} (frame {}) was never echoed",
                        c.conv,
                        m.order.unwrap_or(0),
                        first_frame(m)
                    ),
                    vec![first_frame(m)],
                );
            };
            let mut changed = Vec::new();
            if m.version != e.version {
                changed.push(format!("version {:?} → {:?}", m.version, e.version));
            }
            if m.order != e.order {
                changed.push(format!(
                    "order {} → {}",
                    m.order.unwrap_or(0),
                    e.order.unwrap_or(0)
                ));
            }
            if m.size != e.size {
                changed.push(format!(
                    "size {} → {}",
                    m.size.unwrap_or(0),
                    e.size.unwrap_or(0)
                ));
            }
            if m.payload_bytes != e.payload_bytes {
                changed.push("payload differs".to_string());
            }
            if !changed.is_empty() {
                return Verdict::fail(
                    format!(
                        "conversation {}: the echo (frame {}) of message order={} (frame {}) \
                         changed it: {}",
                        c.conv,
                        first_frame(e),
                        m.order.unwrap_or(0),
                        first_frame(m),
                        changed.join(", ")
                    ),
                    vec![first_frame(m), first_frame(e)],
                );
            }
            frames.push(first_frame(e));
            count += 1;
        }
        if back.len() > sent.len() {
            return Verdict::fail(
                format!(
                    "conversation {}: {} messages sent but {} came back",
                    c.conv,
                    sent.len(),
                    back.len()
                ),
                back.iter().map(|m| first_frame(m)).collect(),
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

fn v2_echoed(f: &Facts) -> Verdict {
    binary_echoed(f, "v2")
}

fn v3_echoed(f: &Facts) -> Verdict {
    binary_echoed(f, "v3")
}

fn v3_several_segments(f: &Facts) -> Verdict {
    let convs = match binary_convs(f, "v3") {
        Ok(c) => c,
        Err(v) => return v,
    };
    let multi = convs
        .iter()
        .flat_map(|c| {
            f.messages
                .iter()
                .filter(move |m| m.conv == c.conv && m.frames.len() > 1)
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
