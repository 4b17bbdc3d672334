//! labsniff's words for people, by subject; the renderers arrange them.
//!
//! - [`summary`]: the run as a whole (the last line, no lab traffic).
pub mod summary;
