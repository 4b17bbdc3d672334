//! labsniff's verdicts inside the capture Wireshark opens: `-r CAP -w OUT.pcapng
//! --annotate` copies every frame byte for byte, with its timestamp and link type, into
//! pcapng, with a packet comment (`frame.comment`) on each frame labsniff has something
//! to say about, and the capture's summary as the section header's comment.
//!
//! - [`verdicts`]: the comments, collected from the events during the run (bounded).
//! - [`pcapng`]: the second pass over the input that writes the file.

pub mod pcapng;
pub mod verdicts;

pub use verdicts::{Tee, Verdicts};

/// Whether `-w PATH` writes pcapng: its name ends in `.pcapng` (or `--pcapng` was given).
pub fn wants_pcapng(path: &std::path::Path, forced: bool) -> bool {
    forced
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pcapng"))
}
