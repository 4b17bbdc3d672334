//! One comment per frame, from the events: each message a frame carried (decoded), the
//! handshake and teardown steps, Wireshark's analysis flags explained, struct mistakes
//! and other diagnostics about a frame.

use crate::event::{ConversationRecord, DiagnosticKind, Event, MessageRef, Sink};
use std::collections::BTreeMap;

/// Frames with a comment kept; a capture with more gets the rest uncommented (counted).
pub const FRAMES_MAX: usize = 200_000;
/// Characters of one frame's comment (a segment carrying hundreds of small messages).
pub const COMMENT_MAX: usize = 1_000;

/// The comments, by frame number.
#[derive(Debug, Default)]
pub struct Verdicts {
    comments: BTreeMap<u64, String>,
    /// Comments not kept because of [`FRAMES_MAX`].
    pub dropped: u64,
}

impl Verdicts {
    pub fn new() -> Verdicts {
        Verdicts::default()
    }

    pub fn get(&self, frame: u64) -> Option<&str> {
        self.comments.get(&frame).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.comments.len()
    }

    pub fn is_empty(&self) -> bool {
        self.comments.is_empty()
    }

    /// Add `text` to frame `frame`'s comment (several verdicts are joined by " | ").
    pub fn add(&mut self, frame: u64, text: &str) {
        if frame == 0 {
            return;
        }
        if !self.comments.contains_key(&frame) && self.comments.len() >= FRAMES_MAX {
            self.dropped += 1;
            return;
        }
        let c = self.comments.entry(frame).or_default();
        if c.len() >= COMMENT_MAX {
            return;
        }
        if !c.is_empty() {
            c.push_str(" | ");
        } else {
            c.push_str("labsniff: ");
        }
        let room = COMMENT_MAX.saturating_sub(c.len());
        if text.len() <= room {
            c.push_str(text);
        } else {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            c.push_str(&text[..cut]);
            c.push('…');
        }
    }

    /// Verdicts of one event.
    pub fn see(&mut self, event: &Event) {
        match event {
            Event::Message(m) => {
                let label = crate::report::message_label(m);
                let n = m.frames.len();
                for (i, &f) in m.frames.iter().enumerate() {
                    let part = if n > 1 {
                        format!(" (frame {} of the {n} that carried it)", i + 1)
                    } else {
                        String::new()
                    };
                    self.add(
                        f,
                        &format!("{} {} message {label}{part}", m.dir.sender(), m.proto),
                    );
                }
            }
            Event::Analysis(a) => {
                // The comment is on the frame itself: the sentence without "frame N: ".
                self.add(a.frame, &crate::report::analysis_text_without_frame(a));
            }
            Event::Conversation(c) => self.conversation(c),
            Event::Diagnostic(d) => {
                let detected = matches!(d.kind, DiagnosticKind::ProtoDetected { .. });
                if let Some(frame) = d.frame.filter(|_| !detected) {
                    self.add(frame, &crate::words::diagnostic::text_without_frame(d));
                }
            }
            Event::Cause(c) => {
                let text = crate::words::causes::text_without_frames(c);
                for &frame in &c.frames {
                    self.add(frame, &text);
                }
            }
            Event::Summary(_) | Event::Segment(_) => {}
        }
    }

    /// The handshake's three steps and the teardown's FINs and RST.
    fn conversation(&mut self, c: &ConversationRecord) {
        let Some(t) = &c.tcp else { return };
        let conv = format!("conversation {} ({} → {})", c.conv, c.client, c.server);
        if let Some(f) = t.syn_frame {
            self.add(
                f,
                &format!("handshake 1/3: SYN, the client's connect() opens {conv}"),
            );
        }
        if let Some(f) = t.syn_ack_frame {
            self.add(
                f,
                "handshake 2/3: SYN-ACK, the server's kernel answers (its program has called listen(); accept() is not needed yet)",
            );
        }
        if let Some(f) = t.ack_frame {
            self.add(
                f,
                "handshake 3/3: ACK, the connection is established; the server's accept() can now return it",
            );
        }
        if let Some(f) = t.fin_c2s_frame {
            self.add(
                f,
                "FIN from the client: it will send no more (close() or shutdown(SHUT_WR))",
            );
        }
        if let Some(f) = t.fin_s2c_frame {
            self.add(
                f,
                "FIN from the server: it will send no more (close() or shutdown(SHUT_WR))",
            );
        }
        if let (Some(f), Some(by)) = (t.rst_frame, t.rst_by.map(|s| s.as_str())) {
            self.add(f, &format!("RST from the {by}: the connection is aborted"));
        }
    }
}

/// Feeds every event to both the report's collector and the verdicts.
#[derive(Debug)]
pub struct Tee<'a, S: Sink> {
    pub sink: &'a mut S,
    pub verdicts: &'a mut Verdicts,
}

impl<S: Sink> Sink for Tee<'_, S> {
    fn emit(&mut self, event: Event) -> std::io::Result<()> {
        self.verdicts.see(&event);
        self.sink.emit(event)
    }

    fn message(&mut self, message: &MessageRef<'_>) -> std::io::Result<()> {
        self.verdicts.see(&Event::Message(message.to_event()));
        self.sink.message(message)
    }
}
