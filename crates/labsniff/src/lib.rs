//! labsniff as a library: read or capture lab traffic, reassemble TCP, dissect the
//! lab's protocols and hand out [`event::Event`]s.
pub mod analysis;
pub mod analyzer;
pub mod annotate;
pub mod capfile;
pub mod conversation;
pub mod defrag;
pub mod dissect;
pub mod event;
pub mod exit_code;
pub mod flow_hash;
pub mod grade;
pub mod link;
pub mod output;
pub mod packet;
pub mod port_census;
pub mod port_choice;
pub mod privileges;
mod progress;
pub mod queue;
pub mod reassembly;
pub mod report;
pub mod source;
pub mod syscalls;

pub use analyzer::{Analyzer, Options};
pub use event::{Event, Sink};
pub use source::{Input, RunExtras, SourceError, SourceOptions};

/// Read or capture as `source` says, analyse with `options`, send every event to `sink`.
pub fn analyze(
    source: &SourceOptions,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<event::Summary, SourceError> {
    source::run(source, options, sink)
}

/// [`analyze`] with the command-line program's extras (progress bar, privilege drop).
pub fn analyze_with(
    source: &SourceOptions,
    extras: &RunExtras,
    options: Options,
    sink: &mut dyn Sink,
) -> Result<event::Summary, SourceError> {
    source::run_with(source, extras, options, sink)
}
