//! Replays `fuzz/regressions/ffi_json/*` through the body of the `ffi_json`
//! fuzz target (`fuzz/ffi_target.rs`) on stable Rust.

#![expect(
    unsafe_code,
    reason = "the fuzz body calls the C ABI as a C host would"
)]

#[cfg(test)]
#[path = "../../fuzz/ffi_target.rs"]
mod ffi_target;

#[cfg(test)]
#[test]
fn ffi_json_regressions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/ffi_json");
    let mut n = 0;
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_file() {
                ffi_target::ffi_json(&std::fs::read(&path).unwrap());
                n += 1;
            }
        }
    }
    // A few hand-made inputs for each entry point
    for input in [
        &b"\x00{\"organisation\":{\"id\":\"o3\"}}"[..],
        b"\x01{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"treatment_started\",\"patient\":\"x1\",\"organisation\":\"o1\"}",
        b"\x02{\"principal\":{\"practitioner\":\"p1\"},\"action\":\"view\",\"patient\":\"x1\",\"at\":\"2026-02-01T00:00:00Z\",\"mfa\":true,\"holder\":\"o1\",\"category\":\"basis\"}",
        b"\x03{\"principal\":{\"practitioner\":\"p1\"},\"patient\":\"x1\",\"at\":\"2026-02-01T00:00:00Z\",\"mfa\":true}",
        b"\x02not json",
        b"\x03",
    ] {
        ffi_target::ffi_json(input);
        n += 1;
    }
    assert!(n >= 6);
}
