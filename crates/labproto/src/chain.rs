//! Following v3 headers along a stream: how many whole messages the bytes hold from
//! the front, and whether they look like one sender's (one version byte, orders
//! counting up). The protocol guess, the resynchronisation after a gap and the
//! `struct` mistake recognisers all walk streams this way.

use crate::v3;

/// Walk `!BII` headers from the start of `bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct V3Chain {
    /// Whole messages found.
    pub frames: usize,
    /// Bytes they cover.
    pub consumed: usize,
    /// Every whole message had the first message's version byte, and it is not 0.
    pub same_version: bool,
    /// Orders increase by one from message to message.
    pub orders_increase: bool,
    /// A header with a size over `max_size` was met.
    pub oversize: bool,
}

/// Follow v3 headers from the front of `bytes` as far as whole messages go.
pub fn v3_chain(bytes: &[u8], max_size: u32) -> V3Chain {
    let mut chain = V3Chain {
        same_version: true,
        orders_increase: true,
        ..V3Chain::default()
    };
    let mut at = 0usize;
    let mut first_version = None;
    let mut last_order: Option<u32> = None;
    while let Ok(p) = v3::Packet::new_checked(&bytes[at..]) {
        if p.size() > max_size {
            chain.oversize = true;
            break;
        }
        let v = *first_version.get_or_insert(p.version());
        if p.version() != v || v == 0 {
            chain.same_version = false;
        }
        if last_order.is_some_and(|o| o.wrapping_add(1) != p.order()) {
            chain.orders_increase = false;
        }
        last_order = Some(p.order());
        chain.frames += 1;
        at += p.total_len() as usize;
    }
    if bytes.len() - at >= v3::HEADER_LEN {
        let p = v3::Packet::new_unchecked(&bytes[at..]);
        chain.oversize |= p.size() > max_size;
    }
    chain.consumed = at;
    chain
}
