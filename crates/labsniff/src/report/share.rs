//! Explanations said once: a sentence that holds for several conversations (how a
//! session is created, what seq means, the framing rule, ...) is written in one block,
//! "Said once for conversations ...", naming the conversations it holds for; each
//! conversation's sections keep what differs (frames, ISNs, messages, timings).
//!
//! The explain report renders its conversations twice: first to collect which
//! conversations say each shareable sentence ([`Share::collecting`]), then to print
//! ([`Share::printing`]), when a sentence said by two or more conversations is left
//! out of their sections and printed once in [`Share::block`]. The HTML page writes
//! every sentence where it belongs ([`Share::inline`]), as before.

use super::{words, Style};

/// Which section a shareable sentence belongs to, and how its block line names the
/// conversations' own parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Topic {
    /// How a client's port was picked; instances: the clients' addresses.
    ClientPicked,
    /// A client port's range; instances: the clients' addresses.
    ClientPort,
    ServerPort,
    SamePorts,
    Session,
    Timing,
    Fin,
    TimeWait,
    State,
    FramingRule,
    Seq,
    Segments,
    EchoTimes,
    /// The protocol detection's reason; instances: `1 (frame 7)`.
    Detection,
    /// What a kind of diagnostic means.
    Advice,
}

impl Topic {
    /// The section it is said under.
    fn section(self) -> &'static str {
        match self {
            Topic::ClientPicked | Topic::ClientPort | Topic::ServerPort | Topic::SamePorts => {
                "Ports"
            }
            Topic::Session | Topic::Timing | Topic::Fin | Topic::TimeWait | Topic::State => {
                "Handshake and teardown"
            }
            Topic::FramingRule | Topic::Seq | Topic::Segments | Topic::Detection => "Framing",
            Topic::EchoTimes => "Echoes",
            Topic::Advice => "Diagnostics",
        }
    }
}

/// One shareable sentence and the conversations that say it.
#[derive(Debug)]
struct Entry {
    topic: Topic,
    text: String,
    convs: Vec<u64>,
    /// What each conversation puts before the sentence (its client, its frame).
    instances: Vec<String>,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum Mode {
    /// Every sentence where it belongs, joined as one conversation alone says it.
    #[default]
    Inline,
    Collecting,
    Printing,
}

/// The shareable sentences of the explain report (see the module's doc).
#[derive(Debug, Default)]
pub(crate) struct Share {
    mode: Mode,
    entries: Vec<Entry>,
}

impl Share {
    /// Nothing is shared: each conversation says everything (the HTML page).
    pub(crate) fn inline() -> Share {
        Share::default()
    }

    /// The first rendering: notes who says what (the text it writes is dropped).
    pub(crate) fn collecting() -> Share {
        Share {
            mode: Mode::Collecting,
            entries: Vec::new(),
        }
    }

    /// After [`Share::collecting`]: sentences of two or more conversations are said
    /// once, in [`Share::block`].
    pub(crate) fn printing(self) -> Share {
        let entries = self
            .entries
            .into_iter()
            .filter(|e| e.convs.len() >= 2)
            .collect();
        Share {
            mode: Mode::Printing,
            entries,
        }
    }

    /// Whether sentences are split into a shareable part and the conversation's own
    /// part (not on the HTML page, which keeps them joined).
    pub(crate) fn splits(&self) -> bool {
        self.mode != Mode::Inline
    }

    /// Whether this is the first rendering, which only notes who says what.
    pub(crate) fn collects(&self) -> bool {
        self.mode == Mode::Collecting
    }

    /// Notes that conversation `conv` says `text`; `instance`: its own part, which the
    /// block puts before the sentence. True when the sentence is said once in the
    /// block, so the conversation leaves it out.
    pub(crate) fn note(&mut self, conv: u64, topic: Topic, text: &str, instance: &str) -> bool {
        let found = self
            .entries
            .iter_mut()
            .find(|e| e.topic == topic && e.text == text);
        match (&self.mode, found) {
            (Mode::Inline, _) => false,
            (Mode::Collecting, Some(e)) => {
                if !e.convs.contains(&conv) {
                    e.convs.push(conv);
                    e.instances.push(instance.to_string());
                }
                false
            }
            (Mode::Collecting, None) => {
                self.entries.push(Entry {
                    topic,
                    text: text.to_string(),
                    convs: vec![conv],
                    instances: vec![instance.to_string()],
                });
                false
            }
            (Mode::Printing, found) => found.is_some_and(|e| e.convs.contains(&conv)),
        }
    }

    /// Writes `text` as a bullet of conversation `conv`, unless the block says it.
    pub(crate) fn bullet(&mut self, out: &mut String, conv: u64, topic: Topic, text: &str) {
        self.bullet_or(out, conv, topic, text, text);
    }

    /// [`Share::bullet`] with two wordings: `shared` for the block, `alone` where
    /// the conversation says it itself.
    pub(crate) fn bullet_or(
        &mut self,
        out: &mut String,
        conv: u64,
        topic: Topic,
        shared: &str,
        alone: &str,
    ) {
        if !self.note(conv, topic, shared, "") {
            out.push_str(&words::bullet(alone));
        }
    }

    /// The conversations some shared sentence holds for, ascending.
    fn convs(&self) -> Vec<u64> {
        let mut all: Vec<u64> = self.entries.iter().flat_map(|e| e.convs.clone()).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// "Said once for conversations 1, 2": the shared sentences by section; a sentence
    /// that holds for fewer than all of those names its conversations. Empty when
    /// nothing is shared.
    pub(crate) fn block(&self, style: &Style) -> String {
        let all = self.convs();
        if all.is_empty() {
            return String::new();
        }
        let mut out = format!(
            "\n{}\n",
            style.heading(&format!(
                "Said once for {} (their sections below keep what differs)",
                conversations(&all)
            ))
        );
        let mut sections: Vec<&str> = Vec::new();
        for e in &self.entries {
            let section = e.topic.section();
            if !sections.contains(&section) {
                sections.push(section);
                out.push_str(&words::section_title(section, style));
                let mut said: Vec<&Entry> = self
                    .entries
                    .iter()
                    .filter(|e| e.topic.section() == section)
                    .collect();
                // In the order of the sections' own lines (stable: a topic's sentences in
                // the order first said).
                said.sort_by_key(|e| e.topic);
                for e in said {
                    if self.range_joined(e).is_none() {
                        out.push_str(&words::bullet(&self.line(e, e.convs != all)));
                    }
                }
            }
        }
        out
    }
}

/// `conversations 1, 2`, `conversations 1–40, 42` (or `conversation 1`); `list`
/// ascending.
pub(crate) fn conversations(list: &[u64]) -> String {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &n in list {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    let numbers: Vec<String> = runs
        .iter()
        .map(|&(a, b)| match b - a {
            0 => a.to_string(),
            1 => format!("{a}, {b}"),
            _ => format!("{a}–{b}"),
        })
        .collect();
    match list {
        [_] => format!("conversation {}", numbers.join(", ")),
        _ => format!("conversations {}", numbers.join(", ")),
    }
}

/// Instances named in a block line; the rest are counted.
const INSTANCES_NAMED: usize = 6;

/// The first [`INSTANCES_NAMED`] instances, and how many more.
fn instances(e: &Entry) -> String {
    let mut named: Vec<&str> = e
        .instances
        .iter()
        .take(INSTANCES_NAMED)
        .map(String::as_str)
        .collect();
    let more = e.instances.len().saturating_sub(INSTANCES_NAMED);
    let more_said = format!("and {more} more");
    if more > 0 {
        named.push(&more_said);
    }
    named.join(", ")
}

impl Share {
    /// For the range sentence of client ports: the sentence of how the same clients'
    /// ports were picked, which says it too ("client A, B: ephemeral ports, ...; all lie
    /// in ...").
    fn range_joined(&self, e: &Entry) -> Option<&Entry> {
        if e.topic != Topic::ClientPort {
            return None;
        }
        self.entries
            .iter()
            .find(|p| p.topic == Topic::ClientPicked && p.convs == e.convs)
    }

    /// The block's line for one shared sentence; `named`: name its conversations.
    fn line(&self, e: &Entry, named: bool) -> String {
        let text = &e.text;
        match e.topic {
            Topic::ClientPicked => {
                let range = self
                    .entries
                    .iter()
                    .find(|r| self.range_joined(r).is_some_and(|p| std::ptr::eq(p, e)));
                match range {
                    Some(r) => format!("client {}: {text}; {}", instances(e), r.text),
                    None => format!("client {}: {text}", instances(e)),
                }
            }
            Topic::ClientPort => format!("client {}: {text}", instances(e)),
            Topic::Detection => format!("conversations {} {text}", instances(e)),
            _ if named => format!("{}: {text}", conversations(&e.convs)),
            _ => text.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_of_two_conversations_is_said_once() {
        let mut share = Share::collecting();
        for conv in [1, 2, 3] {
            // What the first rendering writes is dropped.
            let mut dropped = String::new();
            share.bullet(&mut dropped, conv, Topic::Seq, "seq: the same");
            let own = format!("only {conv}");
            share.bullet(&mut dropped, conv, Topic::State, &own);
        }
        share.bullet(&mut String::new(), 1, Topic::TimeWait, "a");
        share.bullet(&mut String::new(), 3, Topic::TimeWait, "a");
        let mut share = share.printing();
        let mut out = String::new();
        share.bullet(&mut out, 2, Topic::Seq, "seq: the same");
        share.bullet(&mut out, 2, Topic::State, "only 2");
        assert_eq!(out, "    - only 2\n");
        let block = share.block(&Style { color: false });
        assert!(
            block.contains("Said once for conversations 1–3 "),
            "{block}"
        );
        assert!(block.contains("    - seq: the same\n"), "{block}");
        assert!(block.contains("    - conversations 1, 3: a\n"), "{block}");
        assert_eq!(
            conversations(&[1, 2, 3, 5, 7, 8]),
            "conversations 1–3, 5, 7, 8"
        );
        assert_eq!(conversations(&[4]), "conversation 4");
        assert!(!block.contains("only"), "{block}");
    }

    #[test]
    fn inline_says_everything_and_no_block() {
        let mut share = Share::inline();
        let mut out = String::new();
        share.bullet(&mut out, 1, Topic::Seq, "x");
        share.bullet(&mut out, 2, Topic::Seq, "x");
        assert_eq!(out, "    - x\n    - x\n");
        assert!(!share.splits());
        assert_eq!(share.block(&Style { color: false }), "");
    }
}
