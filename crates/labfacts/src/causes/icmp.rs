//! ICMP errors joined to the conversation and the frame they answer.

use super::{keep, Cause, CauseKind, Certainty, Conv, Endpoints};
use crate::event::{Dir, TransportKind};
use crate::packet::icmp::{IcmpError, IcmpKind};
use std::net::IpAddr;

/// Frames remembered per direction to find the one an ICMP error answers.
const RECENT: usize = 4;

/// The last few frames of one direction, with their TCP sequence numbers (0 for UDP).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Recent {
    frames: [(u64, u32); RECENT],
    next: usize,
}

impl Recent {
    pub fn push(&mut self, frame: u64, seq: u32) {
        self.frames[self.next % RECENT] = (frame, seq);
        self.next = (self.next + 1) % RECENT;
    }

    /// The last frame before `before` with sequence number `seq` (any, when `None`).
    fn answered(&self, before: u64, seq: Option<u32>) -> Option<u64> {
        self.frames
            .iter()
            .filter(|&&(f, s)| f != 0 && f < before && seq.is_none_or(|q| q == s))
            .map(|&(f, _)| f)
            .max()
    }
}

/// The errors of one kind from one reporter, in one direction.
#[derive(Debug)]
struct Group {
    dir: Dir,
    kind: IcmpKind,
    icmp_type: u8,
    code: u8,
    reporter: IpAddr,
    mtu: Option<u32>,
    frames: Vec<u64>,
    answered: Vec<Option<u64>>,
    errors: u64,
}

/// Distinct kinds of error kept per conversation.
const GROUPS: usize = 4;

/// One conversation's ICMP errors.
#[derive(Debug, Default)]
pub(super) struct IcmpErrors {
    groups: Vec<Group>,
}

impl IcmpErrors {
    /// Error `e` answering a packet in `dir`, the recent frames of that direction.
    pub fn error(&mut self, e: &IcmpError, dir: Dir, recent: &Recent) {
        let answered = recent.answered(e.frame, e.quoted.tcp_seq);
        let same = |g: &Group| {
            g.dir == dir && g.kind == e.kind && g.reporter == e.reporter && g.code == e.code
        };
        let at = match self.groups.iter().position(same) {
            Some(at) => at,
            None if self.groups.len() < GROUPS => {
                self.groups.push(Group {
                    dir,
                    kind: e.kind,
                    icmp_type: e.icmp_type,
                    code: e.code,
                    reporter: e.reporter,
                    mtu: e.mtu,
                    frames: Vec::new(),
                    answered: Vec::new(),
                    errors: 0,
                });
                self.groups.len() - 1
            }
            None => return,
        };
        let Some(group) = self.groups.get_mut(at) else {
            return;
        };
        group.errors += 1;
        if group.frames.len() < super::FRAMES_KEPT {
            group.answered.push(answered);
        }
        keep(&mut group.frames, e.frame);
    }

    /// The causes, one per group. `transport`, the server and whether the server
    /// answered anything: from the conversation.
    pub fn causes(&self, conv: Conv<'_>, ends: &Endpoints, out: &mut Vec<Cause>) {
        let transport = ends.transport;
        for g in &self.groups {
            let (from, to) = match g.dir {
                Dir::ClientToServer => (ends.client, ends.server),
                Dir::ServerToClient => (ends.server, ends.client),
            };
            let to = to.ip();
            let kind = CauseKind::IcmpError {
                icmp: g.kind,
                icmp_type: g.icmp_type,
                icmp_code: g.code,
                reporter: g.reporter,
                from_destination: to == g.reporter,
                answered: g.answered.clone(),
                errors: g.errors,
                mtu: g.mtu,
                transport,
                sender_port: from.port(),
                server_silent: transport == TransportKind::Tcp && !ends.server_answered,
            };
            let c = super::cause(conv, g.dir, g.frames.clone(), Certainty::Proved, kind);
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::TcpDetails;
    use crate::packet::icmp::Quoted;

    fn error(frame: u64, seq: Option<u32>) -> IcmpError {
        IcmpError {
            frame,
            ts: 0,
            reporter: "10.55.0.1".parse().unwrap(),
            v6: false,
            icmp_type: 3,
            code: 3,
            kind: IcmpKind::PortUnreachable,
            mtu: None,
            quoted: Quoted {
                tcp: seq.is_some(),
                src: "10.55.0.2:40000".parse().unwrap(),
                dst: "10.55.0.1:5005".parse().unwrap(),
                tcp_seq: seq,
            },
        }
    }

    #[test]
    fn each_error_names_the_last_matching_frame_before_it() {
        let mut recent = Recent::default();
        for (frame, seq) in [(1, 100), (3, 100), (5, 200), (7, 300), (9, 400)] {
            recent.push(frame, seq);
        }
        assert_eq!(recent.answered(6, Some(200)), Some(5));
        assert_eq!(recent.answered(8, None), Some(7));
        // Frame 1 fell out of the four remembered; seq 100 at frame 3 is still there.
        assert_eq!(recent.answered(10, Some(100)), Some(3));
        assert_eq!(recent.answered(10, Some(999)), None);
        let mut t = IcmpErrors::default();
        t.error(&error(4, None), Dir::ClientToServer, &recent);
        t.error(&error(10, Some(400)), Dir::ClientToServer, &recent);
        let d = TcpDetails::default();
        let conv = Conv {
            id: 1,
            tcp_stream: None,
            details: &d,
        };
        let ends = Endpoints {
            transport: TransportKind::Udp,
            client: "10.55.0.2:40000".parse().unwrap(),
            server: "10.55.0.1:5005".parse().unwrap(),
            server_answered: false,
        };
        let mut out = Vec::new();
        t.causes(conv, &ends, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].frames, vec![4, 10]);
        match &out[0].kind {
            CauseKind::IcmpError {
                answered,
                errors,
                from_destination,
                ..
            } => {
                assert_eq!(answered, &vec![Some(3), Some(9)]);
                assert_eq!(*errors, 2);
                assert!(*from_destination);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn groups_and_frames_are_bounded() {
        let recent = Recent::default();
        let mut t = IcmpErrors::default();
        for frame in 1..=1000 {
            let mut e = error(frame, None);
            e.code = (frame % 7) as u8;
            t.error(&e, Dir::ClientToServer, &recent);
        }
        assert_eq!(t.groups.len(), GROUPS);
        assert!(t
            .groups
            .iter()
            .all(|g| g.frames.len() == crate::causes::FRAMES_KEPT
                && g.answered.len() == crate::causes::FRAMES_KEPT));
    }
}
