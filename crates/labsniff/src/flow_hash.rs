//! A fast hasher for the conversation table.
//!
//! Every packet looks its conversation up by (transport, address, address). std's
//! SipHash spent ~14% of `labsniff -r --json` hashing those keys (perf, 2.3 M
//! packets); this multiply-rotate hash (the Fx hash rustc uses) with a final
//! avalanche costs a few instructions per word. It is keyed with a per-process
//! random seed so that a crafted capture cannot aim at one fixed bucket layout.

use std::hash::{BuildHasher, Hasher};

/// Builds [`FlowHasher`]s that share one random seed.
#[derive(Debug, Clone, Copy)]
pub struct FlowHashBuilder {
    seed: u64,
}

impl Default for FlowHashBuilder {
    fn default() -> FlowHashBuilder {
        // std's RandomState carries the process's random keys; hashing a constant
        // with it yields a random 64-bit seed.
        FlowHashBuilder {
            seed: std::collections::hash_map::RandomState::new().hash_one(0x5005_u64) | 1,
        }
    }
}

impl BuildHasher for FlowHashBuilder {
    type Hasher = FlowHasher;
    fn build_hasher(&self) -> FlowHasher {
        FlowHasher { state: self.seed }
    }
}

/// Multiply-rotate hashing of whole words (see the module comment).
#[derive(Debug, Clone, Copy)]
pub struct FlowHasher {
    state: u64,
}

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl FlowHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.state = (self.state ^ word).wrapping_mul(K).rotate_left(26);
    }
}

impl Hasher for FlowHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    /// Murmur3's finaliser: every input bit reaches the top bits, which hashbrown
    /// uses to pick among a group's slots.
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = self.state;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn hash_of(builder: &FlowHashBuilder, a: &str, b: &str) -> u64 {
        let a: SocketAddr = a.parse().unwrap();
        let b: SocketAddr = b.parse().unwrap();
        builder.hash_one((a, b))
    }

    #[test]
    fn equal_keys_hash_equal_and_neighbours_differ() {
        let builder = FlowHashBuilder::default();
        let base = hash_of(&builder, "10.0.0.2:40000", "10.0.0.1:5005");
        assert_eq!(base, hash_of(&builder, "10.0.0.2:40000", "10.0.0.1:5005"));
        assert_ne!(base, hash_of(&builder, "10.0.0.2:40001", "10.0.0.1:5005"));
        assert_ne!(base, hash_of(&builder, "10.0.0.3:40000", "10.0.0.1:5005"));
        assert_ne!(base, hash_of(&builder, "10.0.0.1:5005", "10.0.0.2:40000"));
    }

    #[test]
    fn sequential_ports_spread_over_the_top_bits() {
        // hashbrown picks control bytes from the top 7 bits: consecutive client ports
        // (the common case) must not all share them.
        let builder = FlowHashBuilder::default();
        let tops: std::collections::BTreeSet<u64> = (0..1000)
            .map(|p| {
                hash_of(
                    &builder,
                    &format!("10.0.0.2:{}", 40000 + p),
                    "10.0.0.1:5005",
                ) >> 57
            })
            .collect();
        assert!(
            tops.len() > 100,
            "only {} distinct top-7-bit values",
            tops.len()
        );
    }
}
