//! labfacts: the facts about a capture of the sockets lab, computed once, with no words.
//!
//! Layers, bottom to top (each uses only the ones above it in this list):
//! - capture input: [`capfile`] (pcap, pcapng, gzip, read without libpcap), [`source`]
//!   (a file or a live libpcap capture; `-w` copies), [`privileges`];
//! - wire parsing: [`link`] (link layers and encapsulations), [`packet`] (IPv4/IPv6,
//!   TCP, UDP headers as plain values), [`defrag`] (IP fragment reassembly);
//! - the engine: [`reassembly`] (TCP byte streams), [`analysis`] (Wireshark's TCP
//!   analysis flags, Zeek's connection states, capture point, teardown), [`dissect`]
//!   (the lab's text, v2 and v3 messages), [`conversation`] and [`analyzer`] (one
//!   frame at a time through all of the above), [`queue`] (keeps events in frame
//!   order), [`port_choice`] and [`port_census`] (which port is the lab's),
//!   [`syscalls`] (strace traces joined to the capture);
//! - the fact model: [`event`] — the plain types every view renders (messages,
//!   analysis flags, conversation records, typed diagnostics, the summary) — and the
//!   facts derived from a whole capture's events, once: [`index`] (one index every
//!   view shares) with [`echoes`] (the one echo-pairing rule) and the concurrency of
//!   [`analysis::capture`].
//!
//! Nothing here writes a sentence for people: the `labsniff` crate holds the words and
//! every renderer (report, JSON lines, flow graph, SVG, pcapng comments, grading), and
//! depends on this crate, never the other way round — the compiler keeps it so.
pub mod analysis;
pub mod analyzer;
pub mod capfile;
pub mod causes;
pub mod conversation;
pub mod defrag;
pub mod dissect;
pub mod echoes;
pub mod event;
pub mod flow_hash;
pub mod index;
pub mod link;
pub mod packet;
pub mod peer;
pub mod port_census;
pub mod port_choice;
pub mod privileges;
pub mod queue;
pub mod reassembly;
pub mod source;
pub mod syscalls;

pub use analyzer::{Analyzer, Options};
pub use event::{Event, Sink};
pub use source::{Input, Progress, RunExtras, SourceError, SourceOptions};

/// Read or capture as `source` says, analyse with `options`, send every event to `sink`.
pub fn analyze(
    source: &SourceOptions,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<event::Summary, SourceError> {
    source::run(source, options, sink)
}

/// [`analyze`] with the command-line program's extras (progress, privilege drop).
pub fn analyze_with(
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<event::Summary, SourceError> {
    source::run_with(source, extras, options, sink)
}
