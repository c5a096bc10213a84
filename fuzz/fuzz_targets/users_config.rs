//! Fuzz target: see `mock_idp_fuzz::users_config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mock_idp_fuzz::users_config(data));
