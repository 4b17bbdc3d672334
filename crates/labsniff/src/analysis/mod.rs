//! Facts computed from packets, with no words in them (the report and the other
//! renderers say them).

pub mod conn_state;
