//! Fuzz target: see `mock_idp_fuzz::oauth_form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mock_idp_fuzz::oauth_form(data));
