#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| alignmap_fuzz::names_file(data));
