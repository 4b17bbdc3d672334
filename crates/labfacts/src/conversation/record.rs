//! The conversation's end: what the reassemblers still hold is flushed (bytes awaited
//! after an ACK given up first), the dissector finishes, and the conversation's
//! `ConversationRecord` is built, with Zeek's conn_state for TCP or UDP.

use super::{dir_from, Conversation};
use crate::event::{seconds, ConversationRecord, Dir, Event, TransportKind, ZeekState};
use crate::queue::Out;

impl Conversation {
    /// Close the conversation: flush reassembly, finish dissection, build the record.
    pub fn finish(mut self, frame: u64, out: &mut Out<'_>) -> ConversationRecord {
        self.flush_streams(frame, out);
        self.dissector.finish(frame, out);
        let mut causes = Vec::new();
        let conv = crate::causes::Conv {
            id: self.id,
            tcp_stream: self.cold.tcp_stream,
            details: &self.cold.details,
        };
        if self.transport == TransportKind::Tcp {
            self.causes.finish(conv, &mut causes);
        }
        let ends = crate::causes::Endpoints {
            transport: self.transport,
            client: self.client,
            server: self.server,
            server_answered: self.frames[1] > 0,
        };
        self.causes.finish_net(conv, &ends, &mut causes);
        {
            for cause in causes {
                out.push(Event::Cause(cause));
            }
        }
        self.record()
    }

    /// Each direction in turn: bytes awaited after an ACK are given up, then what the
    /// reassembler still holds comes out (up to the FIN, when there was one).
    fn flush_streams(&mut self, frame: u64, out: &mut Out<'_>) {
        for i in 0..2 {
            self.end_ack_wait(i, out);
            let fin = self.fin_seq[i];
            let (reassemblers, mut router) = self.router(dir_from(i), frame, out);
            if let Some(r) = reassemblers[i].as_mut() {
                r.flush(fin, &mut |p| router.take(p));
            }
        }
    }

    /// The record of the finished conversation.
    fn record(&mut self) -> ConversationRecord {
        let tcp = self.transport == TransportKind::Tcp;
        if tcp {
            self.cold.details.history = self.state.history().to_string();
        }
        self.cold.details.largest_segment_c2s = self.largest_segment[0];
        self.cold.details.largest_segment_s2c = self.largest_segment[1];
        if tcp {
            self.cold.details.round_trips_c2s = self.round_trips(Dir::ClientToServer);
            self.cold.details.round_trips_s2c = self.round_trips(Dir::ServerToClient);
        }
        let details = &self.cold.details;
        ConversationRecord {
            conv: self.id,
            transport: self.transport,
            client: self.client,
            server: self.server,
            proto: self.dissector.proto().filter(|_| self.bytes != [0, 0]),
            state: if tcp {
                self.tcp_state()
            } else {
                self.udp_state()
            },
            bytes_c2s: self.bytes[0],
            bytes_s2c: self.bytes[1],
            messages_c2s: self.dissector.messages(Dir::ClientToServer),
            messages_s2c: self.dissector.messages(Dir::ServerToClient),
            gaps: self.cold.gaps.clone(),
            first_frame: self.cold.first_frame,
            last_frame: self.last_frame,
            start_ts: seconds(self.cold.start_ts),
            end_ts: seconds(self.end_ts),
            frames_c2s: self.frames[0],
            frames_s2c: self.frames[1],
            retransmissions: details.retransmissions_c2s + details.retransmissions_s2c,
            out_of_order: details.out_of_order_c2s + details.out_of_order_s2c,
            tcp: tcp.then(|| details.clone()),
            tcp_stream: self.cold.tcp_stream,
            first_payload_c2s: self.payload_at[0].map(|(first, _)| first.said()),
            last_payload_c2s: self.payload_at[0].map(|(_, last)| last.said()),
            first_payload_s2c: self.payload_at[1].map(|(first, _)| first.said()),
            last_payload_s2c: self.payload_at[1].map(|(_, last)| last.said()),
        }
    }

    /// The round-trip facts of the data of `dir` (none when it sent no payload).
    fn round_trips(&self, dir: Dir) -> Option<crate::event::RoundTrips> {
        let i = dir.index();
        let (first, last) = self.payload_at[i]?;
        let d = &self.cold.details;
        let (own, receiver) = match dir {
            Dir::ClientToServer => (d.client_options, d.server_options),
            Dir::ServerToClient => (d.server_options, d.client_options),
        };
        // Windows are scaled only when both SYNs carried the option.
        let shift = own
            .and_then(|o| o.window_scale)
            .and(receiver.and_then(|o| o.window_scale));
        let window_full = d.analysis.get(dir, crate::analysis::Flag::WindowFull);
        let span = (first.micros(), last.micros());
        let mut trips = self.trips[i].finish(shift, window_full, (self.bytes[i], Some(span)));
        let timestamps =
            own.is_some_and(|o| o.timestamps) && receiver.is_some_and(|o| o.timestamps);
        trips.full_segment = receiver.and_then(|o| o.mss).map(|mss| {
            u32::from(mss)
                - if timestamps {
                    12.min(u32::from(mss))
                } else {
                    0
                }
        });
        Some(trips)
    }

    /// Zeek's conn_state for TCP (base/protocols/conn/main.zeek), originator = client.
    fn tcp_state(&self) -> ZeekState {
        self.state.conn_state(self.bytes == [0, 0])
    }

    /// Zeek's conn_state for UDP.
    fn udp_state(&self) -> ZeekState {
        match (self.sent[0], self.sent[1]) {
            (true, true) => ZeekState::Sf,
            (true, false) => ZeekState::S0,
            (false, true) => ZeekState::Shr,
            (false, false) => ZeekState::Oth,
        }
    }
}
