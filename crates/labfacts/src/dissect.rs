//! Dissection of one conversation's two byte streams: detect the protocol, frame each
//! direction with labproto's framers, map messages back to the frames that carried
//! them, resynchronise after gaps and report `struct` mistakes.

use crate::event::{Detection, DetectionBasis, Diagnostic, DiagnosticKind, Dir, Event, Severity};
use crate::queue::{ConvInfo, MessageView, Out};
use labproto::framer::{decoder_for, LabDecoder};
use labproto::{detect, mistakes, Framer, Proto};
use std::collections::VecDeque;

/// Bytes of the start of each direction kept for detection and mistake recognition.
const HEAD_MAX: usize = 256;
/// `recognise` gets to look once this many first bytes are there (or at the end).
const MISTAKE_BYTES: usize = 64;
/// Undecided bytes kept per direction before the protocol is forced from what is there.
const BACKLOG_MAX: usize = 64 * 1024;
/// Unframeable bytes kept while looking for a message boundary.
const RESYNC_WINDOW: usize = 64 * 1024;
/// Consecutive whole messages that prove a boundary after a gap.
const RESYNC_MIN_FRAMES: usize = 2;

#[derive(Debug)]
enum Backlog {
    Data {
        offset: u64,
        bytes: Vec<u8>,
        frame: u64,
        ts: u64,
    },
    Gap {
        offset: u64,
        len: u64,
    },
}

/// A range of stream bytes and the frame that carried it.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u64,
    end: u64,
    frame: u64,
    ts: u64,
}

#[derive(Default)]
struct Side {
    framer: Option<Framer<LabDecoder>>,
    backlog_bytes: usize,
    head: Vec<u8>,
    head_open: bool,
    first_frame: Option<u64>,
    spans: VecDeque<Span>,
    resync: bool,
    version: Option<u8>,
    mistakes_done: bool,
    unframed_dropped: u64,
    messages: u64,
}

impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Side")
            .field("messages", &self.messages)
            .field("resync", &self.resync)
            .finish_non_exhaustive()
    }
}

/// The dissector of one conversation.
#[derive(Debug)]
pub struct Dissector {
    info: ConvInfo,
    proto: Option<Proto>,
    max_size: u32,
    sides: [Side; 2],
    /// Both directions' bytes before the protocol is decided, in arrival order (so the
    /// replay keeps requests and echoes in capture order).
    backlog: Vec<(Dir, Backlog)>,
}

impl Dissector {
    /// `forced`: the protocol given with `--proto`, if any.
    pub fn new(info: ConvInfo, forced: Option<Proto>, max_size: u32) -> Dissector {
        let mut d = Dissector {
            info,
            proto: None,
            max_size,
            sides: [Side::default(), Side::default()],
            backlog: Vec::new(),
        };
        for side in &mut d.sides {
            side.head_open = true;
        }
        if let Some(p) = forced {
            d.set_proto(p);
        }
        d
    }

    /// The protocol, once decided.
    pub fn proto(&self) -> Option<Proto> {
        self.proto
    }

    /// Messages decoded per direction.
    pub fn messages(&self, dir: Dir) -> u64 {
        self.sides[dir.index()].messages
    }

    fn set_proto(&mut self, proto: Proto) {
        self.proto = Some(proto);
        for side in &mut self.sides {
            side.framer = Some(Framer::new(decoder_for(proto, self.max_size)));
        }
    }

    fn diag(&self, severity: Severity, frame: u64, kind: DiagnosticKind) -> Event {
        Event::Diagnostic(Diagnostic {
            severity,
            frame: Some(frame),
            conv: Some(self.info.conv),
            kind,
        })
    }

    /// In-order stream bytes of `dir` at `offset`, carried by `frame` at `ts`.
    pub fn data(
        &mut self,
        dir: Dir,
        offset: u64,
        bytes: &[u8],
        frame: u64,
        ts: u64,
        out: &mut Out<'_>,
    ) {
        let side = &mut self.sides[dir.index()];
        side.first_frame.get_or_insert(frame);
        if side.head_open && offset == side.head.len() as u64 && side.head.len() < HEAD_MAX {
            let take = (HEAD_MAX - side.head.len()).min(bytes.len());
            side.head.extend_from_slice(&bytes[..take]);
        }
        if self.proto.is_none() {
            side.backlog_bytes += bytes.len();
            self.backlog.push((
                dir,
                Backlog::Data {
                    offset,
                    bytes: bytes.to_vec(),
                    frame,
                    ts,
                },
            ));
            let side = &self.sides[dir.index()];
            let force = side.backlog_bytes > BACKLOG_MAX;
            self.try_decide(force, frame, out);
        } else {
            self.apply_data(dir, offset, bytes, frame, ts, out);
        }
        self.check_mistakes(dir, false, out);
    }

    /// One UDP datagram: a whole message as it is (no framing across datagrams).
    /// `frames`: the frames that carried it, in capture order (its IP fragments' when
    /// it was fragmented); the last one completed it.
    pub fn datagram(
        &mut self,
        dir: Dir,
        offset: u64,
        bytes: &[u8],
        frames: &[u64],
        ts: u64,
        out: &mut Out<'_>,
    ) {
        let frame = frames.last().copied().unwrap_or(0);
        let proto = self.proto.unwrap_or(Proto::Text);
        let side = &mut self.sides[dir.index()];
        if !side.mistakes_done && proto != Proto::Text {
            side.mistakes_done = true;
            for mistake in mistakes::recognise(Some(proto), bytes, self.max_size, true) {
                let kind = DiagnosticKind::StructMistake {
                    dir,
                    mistake,
                    datagram: true,
                };
                out.push(self.diag(Severity::Warning, frame, kind));
            }
        }
        // The size limit holds for datagrams as for streams: the same v3 framing rule
        // checks it (a datagram is not framed otherwise). Said in datagram words: the
        // stream error's "cannot be framed past this point" is not true of UDP.
        if proto == Proto::V3 {
            use labproto::Decoder as _;
            let rule = labproto::v3::V3Decoder::new(self.max_size);
            if let Err(labproto::Error::SizeOverLimit { size, .. }) = rule.frame_len(bytes, offset)
            {
                let kind = DiagnosticKind::DatagramOverLimit {
                    len: bytes.len(),
                    size,
                    limit: self.max_size,
                };
                out.push(self.diag(Severity::Error, frame, kind));
                return;
            }
        }
        match MessageView::decode(proto, bytes) {
            Ok(m) => {
                self.sides[dir.index()].messages += 1;
                out.message(
                    &self.info,
                    dir,
                    &m,
                    frames.iter().copied(),
                    ts,
                    Some(offset),
                );
            }
            Err(error) => {
                let kind = DiagnosticKind::DatagramNotMessage {
                    len: bytes.len(),
                    proto,
                    error,
                };
                out.push(self.diag(Severity::Error, frame, kind));
            }
        }
    }

    /// `len` bytes of `dir` at `offset` are missing. Returns the bytes of an unfinished
    /// message that had to be dropped because of it.
    pub fn gap(&mut self, dir: Dir, offset: u64, len: u64, frame: u64, out: &mut Out<'_>) -> usize {
        let side = &mut self.sides[dir.index()];
        side.head_open = false;
        if self.proto.is_none() {
            self.backlog.push((dir, Backlog::Gap { offset, len }));
            self.check_mistakes(dir, false, out);
            return 0;
        }
        let dropped = self.apply_gap(dir, offset, len);
        self.check_mistakes(dir, false, out);
        let _ = frame;
        dropped
    }

    /// End of the conversation (or of the input): decide, decode what is left, report
    /// unfinished messages.
    pub fn finish(&mut self, frame: u64, out: &mut Out<'_>) {
        if self.proto.is_none() {
            self.try_decide(true, frame, out);
        }
        for dir in Dir::BOTH {
            self.check_mistakes(dir, true, out);
            let side = &mut self.sides[dir.index()];
            let Some(framer) = side.framer.as_mut() else {
                continue;
            };
            let mut events = Vec::new();
            if let Err(error) = framer.finish() {
                let last = side.spans.back().map_or(frame, |s| s.frame);
                events.push((last, DiagnosticKind::StreamEnded { dir, error }));
            }
            if side.unframed_dropped > 0 {
                let kind = DiagnosticKind::Unframed {
                    dir,
                    bytes: side.unframed_dropped,
                    proto: framer.proto(),
                };
                events.push((frame, kind));
            }
            for (f, kind) in events {
                out.push(self.diag(Severity::Warning, f, kind));
            }
        }
    }

    fn try_decide(&mut self, at_end: bool, frame: u64, out: &mut Out<'_>) {
        let mut decided = None;
        for dir in Dir::BOTH {
            let head = &self.sides[dir.index()].head;
            if head.is_empty() {
                continue;
            }
            let ambiguous = !at_end && head.len() < HEAD_MAX && binary_tie(head, self.max_size);
            if let Some(g) = detect::guess(head, self.max_size, at_end).filter(|_| !ambiguous) {
                let basis = basis_of(&g, head, self.max_size, at_end);
                decided = Some((
                    g.proto,
                    Detection::FirstBytes { dir, basis },
                    self.sides[dir.index()].first_frame,
                ));
                break;
            }
            if dir == Dir::ClientToServer && !at_end {
                // The client's bytes do not decide yet; wait for more of them unless the
                // client is silent so far and the server talks.
                break;
            }
        }
        if decided.is_none() && at_end {
            let any = !self.backlog.is_empty();
            if !any {
                return;
            }
            let first = self.sides.iter().filter_map(|s| s.first_frame).min();
            decided = Some((Proto::Text, Detection::NoBinaryFormat, first));
        }
        let Some((proto, detection, first)) = decided else {
            return;
        };
        self.set_proto(proto);
        // About the frame with the first bytes, not the later one that let them be read.
        let kind = DiagnosticKind::ProtoDetected {
            conv: self.info.conv,
            proto,
            detection,
        };
        out.push(self.diag(Severity::Note, first.unwrap_or(frame), kind));
        for side in &mut self.sides {
            side.backlog_bytes = 0;
        }
        for (dir, item) in std::mem::take(&mut self.backlog) {
            {
                match item {
                    Backlog::Data {
                        offset,
                        bytes,
                        frame,
                        ts,
                    } => self.apply_data(dir, offset, &bytes, frame, ts, out),
                    Backlog::Gap { offset, len } => {
                        self.apply_gap(dir, offset, len);
                    }
                }
            }
        }
    }

    fn check_mistakes(&mut self, dir: Dir, at_end: bool, out: &mut Out<'_>) {
        let side = &self.sides[dir.index()];
        let Some(proto) = self.proto else { return };
        if side.mistakes_done || side.head.is_empty() {
            return;
        }
        let ready = at_end || side.head.len() >= MISTAKE_BYTES || !side.head_open;
        if !ready {
            return;
        }
        let found = mistakes::recognise(
            Some(proto),
            &side.head,
            self.max_size,
            at_end && side.head_open,
        );
        let frame = side.first_frame.unwrap_or(0);
        self.sides[dir.index()].mistakes_done = true;
        for mistake in found {
            let kind = DiagnosticKind::StructMistake {
                dir,
                mistake,
                datagram: false,
            };
            out.push(self.diag(Severity::Warning, frame, kind));
        }
    }

    fn apply_gap(&mut self, dir: Dir, offset: u64, len: u64) -> usize {
        let proto = self.proto;
        let side = &mut self.sides[dir.index()];
        let Some(framer) = side.framer.as_mut() else {
            return 0;
        };
        let dropped = framer.pending().len();
        framer.reset(offset + len);
        side.spans.clear();
        side.resync = proto != Some(Proto::Text);
        dropped
    }

    fn apply_data(
        &mut self,
        dir: Dir,
        offset: u64,
        bytes: &[u8],
        frame: u64,
        ts: u64,
        out: &mut Out<'_>,
    ) {
        let side = &mut self.sides[dir.index()];
        let Some(framer) = side.framer.as_mut() else {
            return;
        };
        side.spans.push_back(Span {
            start: offset,
            end: offset + bytes.len() as u64,
            frame,
            ts,
        });
        framer.push(bytes);
        self.pump(dir, frame, out);
    }

    /// Take every whole message out of `dir`'s framer.
    fn pump(&mut self, dir: Dir, frame: u64, out: &mut Out<'_>) {
        let max_size = self.max_size;
        loop {
            let side = &mut self.sides[dir.index()];
            let Some(framer) = side.framer.as_mut() else {
                return;
            };
            let proto = framer.proto();
            if side.resync {
                let version = side
                    .version
                    .or_else(|| side.head.first().copied())
                    .unwrap_or(1);
                let pending = framer.pending();
                match detect::resync(proto, pending, version, max_size, RESYNC_MIN_FRAMES) {
                    Some(skip) => {
                        let at = framer.offset() + skip as u64;
                        framer.skip(skip);
                        side.resync = false;
                        side.unframed_dropped += skip as u64;
                        let kind = DiagnosticKind::Resync {
                            dir,
                            offset: at,
                            proto,
                            skipped: skip,
                        };
                        out.push(self.diag(Severity::Note, frame, kind));
                        continue;
                    }
                    None => {
                        if pending.len() > RESYNC_WINDOW {
                            let drop = pending.len() - RESYNC_WINDOW / 2;
                            framer.skip(drop);
                            side.unframed_dropped += drop as u64;
                        }
                        return;
                    }
                }
            }
            match framer.next_frame() {
                Ok(Some(f)) => {
                    let (offset, end) = (f.offset, f.end());
                    let decoded = MessageView::decode(proto, f.bytes);
                    let carried = |s: &&Span| s.end > offset && s.start < end;
                    let mut last = (0u64, 0u64);
                    for s in side.spans.iter().filter(carried) {
                        if s.frame >= last.0 {
                            last = (s.frame, s.ts);
                        }
                    }
                    match decoded {
                        Ok(m) => {
                            side.version = m.version.or(side.version);
                            side.messages += 1;
                            let frames = side.spans.iter().filter(carried).map(|s| s.frame);
                            out.message(&self.info, dir, &m, frames, last.1, Some(offset));
                        }
                        Err(error) => {
                            let kind = DiagnosticKind::MessageInvalid { error };
                            out.push(self.diag(Severity::Error, last.0, kind));
                        }
                    }
                    let side = &mut self.sides[dir.index()];
                    while side.spans.front().is_some_and(|s| s.end <= end) {
                        side.spans.pop_front();
                    }
                }
                Ok(None) => return,
                Err(error) => {
                    framer.skip(1);
                    side.unframed_dropped += 1;
                    side.resync = true;
                    let kind = DiagnosticKind::StreamUnframeable { dir, error };
                    out.push(self.diag(Severity::Error, frame, kind));
                }
            }
        }
    }
}

/// Which of [`detect::guess`]'s rules decided `g` on `head`, with its numbers. labproto
/// says it only in words (`Guess::reason`), so this asks the functions `guess` itself
/// asks, in its order: a `struct` mistake decides when neither binary format scores 90,
/// otherwise the highest score. (labsniff's words are checked against `Guess::reason`
/// on many inputs: `labsniff::words::dissect` tests.)
pub fn basis_of(g: &detect::Guess, head: &[u8], max_size: u32, at_end: bool) -> DetectionBasis {
    let scores = detect::plausibility(head, max_size, at_end);
    if scores.v2.max(scores.v3) < 90 {
        if let Some(m) = mistakes::recognise(None, head, max_size, at_end)
            .into_iter()
            .next()
        {
            return DetectionBasis::WrongStruct(m);
        }
    }
    match g.proto {
        Proto::Text => DetectionBasis::Text {
            percent: g.score,
            bytes: head.len(),
        },
        Proto::V2 => DetectionBasis::V2(scores),
        Proto::V3 => DetectionBasis::V3(scores),
    }
}

/// Both binary formats fit the bytes equally well (e.g. one 29-byte v3 message whose
/// size is 20 is also a valid v2 message): more bytes are needed to tell them apart.
fn binary_tie(head: &[u8], max_size: u32) -> bool {
    let p = detect::plausibility(head, max_size, false);
    p.v2 >= 50 && p.v3 >= 50 && p.v2.abs_diff(p.v3) < 20
}
