//! The hasher of the conversation tables.
//!
//! Every packet looks its conversation up by (transport, address, address). std's
//! SipHash spent ~14% of `labsniff -r --json` hashing those keys (perf, 2.3 M
//! packets). This was a hand-written copy of the Fx hash; it is now foldhash's fast
//! hasher (maintained, per-process random seed, as fast here: README's dependency
//! table has the measurement).

/// Builds the tables' hashers; each table gets its own random seed.
pub type FlowHashBuilder = foldhash::fast::RandomState;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;
    use std::net::SocketAddr;

    #[test]
    fn distinct_flows_hash_apart_and_equal_flows_alike() {
        let b = FlowHashBuilder::default();
        let a: SocketAddr = "10.0.0.1:5005".parse().unwrap_or_else(|_| unreachable!());
        let c: SocketAddr = "10.0.0.2:40000".parse().unwrap_or_else(|_| unreachable!());
        let d: SocketAddr = "10.0.0.2:40001".parse().unwrap_or_else(|_| unreachable!());
        assert_eq!(b.hash_one((a, c)), b.hash_one((a, c)));
        assert_ne!(b.hash_one((a, c)), b.hash_one((a, d)));
    }
}
