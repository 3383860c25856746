#![no_main]

#[path = "../targets.rs"]
#[allow(dead_code)]
mod targets;

#[path = "../../tests/it/common.rs"]
#[allow(dead_code)]
mod common;

#[path = "../../tests/it/oracle.rs"]
#[allow(dead_code)]
mod oracle;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    targets::fhir_import(data);
});
