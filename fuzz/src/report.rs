//! Target `report`: the report renderer. Events in (those the analyzer makes of a
//! `sniff_frames` input, then bent by the fuzzer: the summary's ports, port choice and
//! totals, conversation and message numbers and timestamps), text out. Each view, the
//! flow graph of one conversation and the SVG must render without panicking.
//!
//! Input layout:
//! ```text
//! [conv: u8, high bit: colour] [lab_port: u16 BE] [how: u8: % 5 the port choice, / 5 % 6 the rendering]
//! [flags: u8] [conversations: u32 BE] [ts shift: u32 BE] [other ports: u8 % 12] [sniff_frames input...]
//! ```
//! One rendering per input (one of the four views, the flow graph of one
//! conversation, the SVG), chosen by the `how` byte: rendering all six for every
//! input made each execution six times as long for the same coverage.

use crate::reader::Reader;
use labsniff::event::{Event, PortCount, TransportKind};
use labsniff::port_choice::How;
use labsniff::report::{self, Style, View};
use labsniff::Analyzer;

const HOW: [How; 5] = [
    How::Given,
    How::Default,
    How::Found,
    How::NoneFound,
    How::NotSearched,
];

/// Bytes before the `sniff_frames` input.
pub const HEADER: usize = 14;

/// Renderings an input can choose (see the module doc).
pub const RENDERINGS: u8 = 6;

/// The input for events made of a `sniff_frames` input, with a neutral header and
/// rendering `rendering` (0..RENDERINGS).
pub fn encode(sniff_frames_input: &[u8], rendering: u8) -> Vec<u8> {
    let how = 1 + 5 * (rendering % RENDERINGS);
    let mut out = vec![1, 0x13, 0x8d, how, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
    out.extend_from_slice(sniff_frames_input);
    out
}

pub fn check(input: &[u8]) {
    let mut r = Reader::new(input);
    let conv = u64::from(r.u8());
    let lab_port = r.u16();
    let how_byte = r.u8();
    let how = HOW[usize::from(how_byte % 5)];
    let rendering = how_byte / 5 % RENDERINGS;
    let flags = r.u8();
    let conversations = u64::from(r.u32());
    let shift = f64::from(r.u32()) / 1000.0;
    let other = usize::from(r.u8() % 12);
    let rest = r.rest();
    let case = crate::sniff_frames::Case::decode(rest);
    let mut analyzer = Analyzer::new(case.options, case.dlt);
    let mut events: Vec<Event> = Vec::new();
    let mut ts = labfixtures::FIRST_TIMESTAMP_MICROS;
    for frame in &case.frames {
        if let Err(e) = analyzer.frame(frame, ts, frame.len() as u32, &mut events) {
            panic!("a Vec sink cannot fail, yet: {e}");
        }
        ts += 10;
    }
    if let Err(e) = analyzer.finish(flags & 1 != 0, None, &mut events) {
        panic!("a Vec sink cannot fail, yet: {e}");
    }
    for (i, event) in events.iter_mut().enumerate() {
        match event {
            Event::Summary(s) => {
                s.lab_port = lab_port;
                s.port_choice.how = how;
                s.port_choice.default_port_used = flags & 2 != 0;
                s.port_choice.conversations = conversations;
                s.port_choice.transport = match flags >> 2 & 3 {
                    0 => None,
                    1 => Some(TransportKind::Tcp),
                    _ => Some(TransportKind::Udp),
                };
                s.port_choice.proto = [
                    None,
                    Some(labproto::Proto::Text),
                    Some(labproto::Proto::V2),
                    Some(labproto::Proto::V3),
                ][usize::from(flags >> 4 & 3)];
                s.dropped = (flags & 64 != 0).then_some(conversations as u32);
                s.other_ports = (0..other)
                    .map(|p| PortCount {
                        transport: if p % 2 == 0 {
                            TransportKind::Tcp
                        } else {
                            TransportKind::Udp
                        },
                        port: lab_port.wrapping_add(p as u16),
                        conversations: conversations >> p,
                    })
                    .collect();
            }
            // Timestamps out of step with the frames (as a capture with clock jumps).
            Event::Message(m) if flags & 128 != 0 && i % 2 == 0 => m.ts += shift,
            _ => {}
        }
    }
    // One style per input (the conv byte's high bit): both render the same words.
    let style = Style {
        color: conv & 0x80 != 0,
    };
    let views = [
        View::Explain,
        View::Conversations,
        View::Messages,
        View::Flow,
    ];
    match usize::from(rendering) {
        v if v < views.len() => {
            let text = report::render(&events, views[v], &style);
            assert!(
                events.is_empty() || !text.is_empty(),
                "{:?}: no text for {} events",
                views[v],
                events.len()
            );
        }
        4 => {
            let _ = report::render_flow(&events, Some(conv & 0x7f), &style);
        }
        _ => {
            let svg = report::render_svg(&events, Some(conv).filter(|c| *c != 0));
            assert!(
                svg.starts_with("<svg") || svg.starts_with("<?xml"),
                "not an SVG"
            );
        }
    }
}
