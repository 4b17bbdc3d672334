#![no_main]
// The checks and the input layout live in src/framer.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labsockets_fuzz::framer::check(data));
