#![no_main]
// The checks live in src/capfile.rs.
libfuzzer_sys::fuzz_target!(|data: &[u8]| labsockets_fuzz::capfile::check(data));
