#![no_main]
// The checks and the input layout live in src/sniff_frames.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labsockets_fuzz::sniff_frames::check(data));
