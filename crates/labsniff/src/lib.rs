//! labsniff as a library: read or capture lab traffic, reassemble TCP, dissect the
//! lab's protocols and hand out [`event::Event`]s.
pub mod link;
pub mod packet;
pub mod reassembly;
pub mod dissect;
pub mod event;
pub mod conversation;
pub mod analyzer;
pub mod source;
pub mod output;

pub use analyzer::{Analyzer, Options};
pub use event::{Event, Sink};
pub use source::{Input, SourceError, SourceOptions};

/// Read or capture as `source` says, analyse with `options`, send every event to `sink`.
pub fn analyze<S: Sink + ?Sized>(
    source: &SourceOptions,
    options: Options,
    sink: &mut S,
) -> Result<event::Summary, SourceError> {
    source::run(source, options, sink)
}
