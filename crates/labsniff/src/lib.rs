//! labsniff as a library: read or capture lab traffic, reassemble TCP, dissect the
//! lab's protocols and hand out [`event::Event`]s.
pub mod link;
pub mod packet;
pub mod reassembly;
