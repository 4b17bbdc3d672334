//! The JSON line of an owned [`Event`] (SCHEMA.md): the fact model's fields as serde
//! writes them, plus the words an analysis or diagnostic line carries (`text`),
//! rendered here.

use labfacts::event::{
    AnalysisEvent, ConversationRecord, Diagnostic, Event, MessageEvent, SegmentEvent, Summary,
};
use serde::ser::SerializeMap;
use serde::Serialize;

/// `event` as its JSON line (without the newline).
pub fn to_writer<W: std::io::Write>(out: W, event: &Event) -> serde_json::Result<()> {
    serde_json::to_writer(out, &JsonEvent::from(event))
}

/// The field order of every struct is the JSON field order (see SCHEMA.md).
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum JsonEvent<'a> {
    Message(&'a MessageEvent),
    Analysis(AnalysisJson<'a>),
    Segment(&'a SegmentEvent),
    Cause(CauseJson<'a>),
    Conversation(&'a ConversationRecord),
    Diagnostic(DiagnosticJson<'a>),
    Summary(&'a Summary),
}

impl<'a> From<&'a Event> for JsonEvent<'a> {
    fn from(event: &'a Event) -> JsonEvent<'a> {
        match event {
            Event::Message(m) => JsonEvent::Message(m),
            Event::Analysis(a) => JsonEvent::Analysis(AnalysisJson(a)),
            Event::Segment(s) => JsonEvent::Segment(s),
            Event::Cause(c) => JsonEvent::Cause(CauseJson {
                text: crate::words::causes::text(c),
                filter: crate::words::causes::filter(c),
                cause: c,
            }),
            Event::Conversation(c) => JsonEvent::Conversation(c),
            Event::Diagnostic(d) => JsonEvent::Diagnostic(DiagnosticJson(d)),
            Event::Summary(s) => JsonEvent::Summary(s),
        }
    }
}

struct AnalysisJson<'a>(&'a AnalysisEvent);

impl Serialize for AnalysisJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.0;
        let flags: Vec<&'static str> = a.flags.iter().map(|f| f.name()).collect();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("frame", &a.frame)?;
        m.serialize_entry("conv", &a.conv)?;
        m.serialize_entry("dir", &a.dir)?;
        m.serialize_entry("flags", &flags)?;
        m.serialize_entry("text", &crate::report::analysis_text(a))?;
        m.serialize_entry("ts", &a.ts)?;
        m.serialize_entry("seq", &a.seq)?;
        m.serialize_entry("seq_rel", &a.seq_rel)?;
        m.serialize_entry("ack", &a.ack)?;
        m.serialize_entry("ack_rel", &a.ack_rel)?;
        m.serialize_entry("len", &a.len)?;
        m.serialize_entry("syn", &a.syn)?;
        m.serialize_entry("fin", &a.fin)?;
        m.serialize_entry("window", &a.window)?;
        m.serialize_entry("duplicate_ack_num", &a.duplicate_ack.map(|d| d.num))?;
        m.serialize_entry("duplicate_ack_frame", &a.duplicate_ack.map(|d| d.frame))?;
        m.serialize_entry("rto", &a.retransmitted.map(|r| r.rto as f64 / 1e6))?;
        m.serialize_entry("rto_frame", &a.retransmitted.map(|r| r.rto_frame))?;
        if let Some(kind) = a.keep_alive {
            m.serialize_entry("keep_alive_kind", &kind)?;
        }
        m.serialize_entry("capture_point", &a.capture_point)?;
        m.serialize_entry("capture_dropped_before", &a.capture_dropped_before)?;
        m.end()
    }
}

/// A cause's facts (its kind's fields after `code`), its sentence and its filter.
#[derive(Serialize)]
struct CauseJson<'a> {
    #[serde(flatten)]
    cause: &'a labfacts::causes::Cause,
    text: String,
    filter: String,
}

struct DiagnosticJson<'a>(&'a Diagnostic);

impl Serialize for DiagnosticJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("severity", &d.severity)?;
        m.serialize_entry("code", d.code())?;
        m.serialize_entry("frame", &d.frame)?;
        m.serialize_entry("conv", &d.conv)?;
        m.serialize_entry("text", &crate::words::diagnostic::text(d))?;
        m.end()
    }
}
