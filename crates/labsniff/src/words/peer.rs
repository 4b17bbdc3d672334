//! Both capture points in one picture (`--peer-capture`): what a segment matched, or
//! not, between the two captures means.

use crate::event::Dir;

/// The sides a segment of `dir` goes from and to.
fn ends(dir: Dir) -> (&'static str, &'static str) {
    match dir {
        Dir::ClientToServer => ("client", "server"),
        Dir::ServerToClient => ("server", "client"),
    }
}

/// A segment seen leaving its sender's side and never seen at the other capture point;
/// `peer_frame`: its number in the other capture when only that capture has it.
pub fn lost_between(dir: Dir, peer_frame: Option<u64>) -> String {
    let (from, to) = ends(dir);
    let which = match peer_frame {
        Some(f) => format!("frame {f} of the other capture (on the {from}'s side)"),
        None => "this frame".to_string(),
    };
    format!(
        "lost between the two capture points: {which} was seen leaving the {from}'s side and never \
         reached the capture on the {to}'s side (not lost before the capture point: the network \
         between the two captures dropped it)"
    )
}

/// How the two captures are shown together.
pub fn both_ends(here_side: &str, other: &str) -> String {
    format!(
        "both ends in one picture: this capture was made on the {here_side}'s side, {other} on the \
         other; each arrow goes from the time a segment left one side to the time it was seen at the \
         other (the two captures' clocks are taken as one, as on one machine: no offset is estimated)"
    )
}
