//! One index of a capture's events, shared by every view that reads them as a whole
//! (the explain report, the flow graph, grading): conversations in id order, and per
//! conversation its messages, diagnostics and analysis flags; with the facts derived
//! from them — echo pairs ([`crate::echoes`]) and how the server served its clients
//! ([`crate::analysis::capture`]) — each computed once, when first asked for.

use crate::analysis::capture::{concurrency, Concurrency};
use crate::causes::Cause;
use crate::echoes::{self, Echo};
use crate::event::{
    AnalysisEvent, ConversationRecord, Diagnostic, Dir, Event, MessageEvent, SegmentEvent, Summary,
};
use std::cell::OnceCell;
use std::collections::BTreeMap;

/// The events of a capture, sorted per conversation.
#[derive(Debug, Default)]
pub struct CaptureIndex<'a> {
    /// In conversation-id order.
    pub convs: Vec<&'a ConversationRecord>,
    /// Per conversation, in the order of the frame that completed each message.
    messages: BTreeMap<u64, Vec<&'a MessageEvent>>,
    /// Per conversation.
    diags: BTreeMap<u64, Vec<&'a Diagnostic>>,
    /// Per conversation, in frame order: Wireshark's analysis flags.
    analysis: BTreeMap<u64, Vec<&'a AnalysisEvent>>,
    /// Per conversation, in frame order: every TCP segment (when the analysis was
    /// asked for them).
    segments: BTreeMap<u64, Vec<&'a SegmentEvent>>,
    /// Per conversation: the causes the packets prove ([`crate::causes`]).
    causes: BTreeMap<u64, Vec<&'a Cause>>,
    /// Causes about the capture, not one conversation.
    pub capture_causes: Vec<&'a Cause>,
    /// About the capture, not one conversation.
    pub capture_diags: Vec<&'a Diagnostic>,
    pub summary: Option<&'a Summary>,
    echoes: OnceCell<BTreeMap<u64, Vec<Echo>>>,
    concurrency: OnceCell<Option<Concurrency>>,
}

impl<'a> CaptureIndex<'a> {
    pub fn new(events: &'a [Event]) -> CaptureIndex<'a> {
        let mut g = CaptureIndex::default();
        for event in events {
            match event {
                Event::Conversation(c) => g.convs.push(c),
                Event::Message(m) => g.messages.entry(m.conv).or_default().push(m),
                Event::Diagnostic(d) => match d.conv {
                    Some(conv) => g.diags.entry(conv).or_default().push(d),
                    None => g.capture_diags.push(d),
                },
                Event::Summary(s) => g.summary = Some(s),
                Event::Analysis(a) => g.analysis.entry(a.conv).or_default().push(a),
                Event::Segment(seg) => g.segments.entry(seg.conv).or_default().push(seg),
                Event::Cause(c) => match c.conv {
                    Some(conv) => g.causes.entry(conv).or_default().push(c),
                    None => g.capture_causes.push(c),
                },
            }
        }
        g.convs.sort_by_key(|c| c.conv);
        // Each direction's messages come in stream order, but the two directions can
        // come out of step (e.g. held back until the protocol was detected): merge them
        // by completion time, never reordering within a direction.
        for list in g.messages.values_mut() {
            *list = merge_directions(list);
        }
        g
    }

    /// The conversation numbered `conv`.
    pub fn conv(&self, conv: u64) -> Option<&'a ConversationRecord> {
        self.convs
            .binary_search_by_key(&conv, |c| c.conv)
            .ok()
            .and_then(|i| self.convs.get(i).copied())
    }

    /// A conversation's messages, both directions, in completion order.
    pub fn messages_of(&self, conv: u64) -> &[&'a MessageEvent] {
        self.messages.get(&conv).map_or(&[], Vec::as_slice)
    }

    /// A conversation's messages in one direction, in stream order.
    pub fn messages_in(&self, conv: u64, dir: Dir) -> impl Iterator<Item = &'a MessageEvent> + '_ {
        self.messages_of(conv)
            .iter()
            .copied()
            .filter(move |m| m.dir == dir)
    }

    /// Every message kept, conversation by conversation.
    pub fn all_messages(&self) -> impl Iterator<Item = &'a MessageEvent> + '_ {
        self.messages.values().flatten().copied()
    }

    pub fn diags_of(&self, conv: u64) -> &[&'a Diagnostic] {
        self.diags.get(&conv).map_or(&[], Vec::as_slice)
    }

    /// Every diagnostic about a conversation, conversation by conversation.
    pub fn conv_diags(&self) -> impl Iterator<Item = &'a Diagnostic> + '_ {
        self.diags.values().flatten().copied()
    }

    pub fn analysis_of(&self, conv: u64) -> &[&'a AnalysisEvent] {
        self.analysis.get(&conv).map_or(&[], Vec::as_slice)
    }

    /// A conversation's TCP segments in frame order (empty unless the analysis was
    /// asked for them).
    pub fn segments_of(&self, conv: u64) -> &[&'a SegmentEvent] {
        self.segments.get(&conv).map_or(&[], Vec::as_slice)
    }

    /// A conversation's causes, in the order found.
    pub fn causes_of(&self, conv: u64) -> &[&'a Cause] {
        self.causes.get(&conv).map_or(&[], Vec::as_slice)
    }

    /// The echo pairs of `conv`: indices into [`Self::messages_of`]`(conv)`.
    pub fn echoes_of(&self, conv: u64) -> &[Echo] {
        let all = self.echoes.get_or_init(|| {
            self.messages
                .iter()
                .map(|(conv, list)| (*conv, echoes::pair(list)))
                .collect()
        });
        all.get(&conv).map_or(&[], Vec::as_slice)
    }

    /// When the lab traffic began: the earliest lab conversation's first frame. The
    /// one time origin of every time-line view, so that a frame has the same time
    /// whichever conversations are drawn.
    pub fn lab_start(&self) -> Option<f64> {
        self.convs.iter().map(|c| c.start_ts).reduce(f64::min)
    }

    /// How the server served its TCP clients, as far as the packets prove.
    pub fn concurrency(&self) -> Option<Concurrency> {
        *self.concurrency.get_or_init(|| concurrency(&self.convs))
    }
}

/// Merge the client's and the server's messages by (time, last frame), keeping each
/// direction's own order.
fn merge_directions<'a>(list: &[&'a MessageEvent]) -> Vec<&'a MessageEvent> {
    let key = |m: &MessageEvent| (m.ts, m.frames.last().copied().unwrap_or(0));
    let (c2s, s2c): (Vec<&MessageEvent>, Vec<&MessageEvent>) =
        list.iter().partition(|m| m.dir == Dir::ClientToServer);
    let (mut a, mut b) = (c2s.into_iter().peekable(), s2c.into_iter().peekable());
    let mut out = Vec::with_capacity(list.len());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => key(x).partial_cmp(&key(y)) != Some(std::cmp::Ordering::Greater),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_a { a.next() } else { b.next() };
        out.extend(next);
    }
    out
}
