#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| alignmap_fuzz::results_zip(data));
