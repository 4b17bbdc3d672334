//! labsniff: the words and the pictures for the facts [`labfacts`] computes about a
//! capture of the sockets lab — the explain report, the plain and JSON-lines streams,
//! the flow graph and SVG, pcapng comments and grading — and the `labsniff` program.
//!
//! Every renderer here takes the fact model ([`labfacts::event`]) and arranges it; none
//! re-derives a fact. The engine's modules are re-exported under their own names so
//! that `labsniff::event`, `labsniff::analyze` and the rest keep working for callers.
pub mod annotate;
pub mod exit_code;
pub mod grade;
pub mod html;
pub mod output;
pub mod progress;
pub mod report;
pub mod words;

pub use labfacts::{
    analysis, analyze, analyze_with, analyzer, capfile, causes, conversation, defrag, dissect,
    event, flow_hash, link, packet, peer, port_census, port_choice, privileges, queue, reassembly,
    source, syscalls,
};
pub use labfacts::{
    Analyzer, Event, Input, Options, Progress, RunExtras, Sink, SourceError, SourceOptions,
};
