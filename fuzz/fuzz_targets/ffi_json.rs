#![no_main]

#[path = "../ffi_target.rs"]
mod ffi_target;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    ffi_target::ffi_json(data);
});
