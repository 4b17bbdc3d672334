//! Facts computed once from the conversation records, in plain types (no words): the
//! report's sections render them, and never derive them again.
//!
//! - [`capture`]: facts that need several conversations (how the server served its
//!   clients: concurrently, one at a time, or cannot tell).
//! - [`teardown`]: how one TCP conversation ended (half-close, who closed first and so
//!   holds TIME_WAIT, resets and refusals) and the Python exception each failure raised.

pub mod capture;
pub mod teardown;
