//! Event sinks for people (plain text) and programs (JSON lines).
pub mod collect;
pub mod follow;
pub mod json;
pub mod json_event;
pub mod plain;
pub mod syscalls;

/// Colour only on a terminal, and never when NO_COLOR is set (any value).
pub fn use_colour(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none()
}
