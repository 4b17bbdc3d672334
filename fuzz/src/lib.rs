//! The checks behind the fuzz targets, and the byte formats of their inputs.
//!
//! Each module owns one target: how a fuzz input is laid out (so `bin/seeds.rs` can
//! write inputs in the same layout from real lab traffic) and `check`, which runs the
//! code under test on one input and panics when an invariant breaks. The targets in
//! `fuzz_targets/` only call `check`; keeping the logic here lets `bin/seeds.rs` share
//! the input layouts, and lets a crash input be replayed by calling `check` directly.

pub mod capfile;
pub mod framer;
pub mod reader;
pub mod reassembler;
pub mod report;
pub mod sniff_frames;
