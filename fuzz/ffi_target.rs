//! The C ABI's JSON entry points under fuzzing: a selector byte picks
//! `register`, `apply`, `decide` or `dashboard`, the rest is the JSON text.
//! Every call must return a status (no panic escapes, no crash), write its
//! out-parameter only on success, and a successful answer must be JSON.
//! Replayed on stable by `ffi/tests/fuzz_regressions.rs`.

use std::ffi::{CStr, CString, c_char};
use std::ptr;

use zorg_pdp_ffi::{
    zpdp_engine, zpdp_engine_apply, zpdp_engine_dashboard, zpdp_engine_decide, zpdp_engine_free,
    zpdp_engine_new_shipped, zpdp_engine_register, zpdp_error, zpdp_error_free, zpdp_status,
    zpdp_string_free,
};

const WORLD: [&str; 5] = [
    r#"{"organisation":{"id":"o1"}}"#,
    r#"{"organisation":{"id":"o2"}}"#,
    r#"{"patient":{"id":"x1"}}"#,
    r#"{"practitioner":{"id":"p1","organisation":"o1","role":"huisarts"}}"#,
    r#"{"practitioner":{"id":"p2","organisation":"o2","role":"kraamverzorgende"}}"#,
];

/// One fuzz input through the C ABI
pub(crate) fn ffi_json(data: &[u8]) {
    let Some((selector, rest)) = data.split_first() else {
        return;
    };
    let text: Vec<u8> = rest.iter().copied().take_while(|b| *b != 0).collect();
    let Ok(json) = CString::new(text) else { return };
    let mut engine: *mut zpdp_engine = ptr::null_mut();
    // SAFETY: valid out-pointers for the call
    let status = unsafe { zpdp_engine_new_shipped(&raw mut engine, ptr::null_mut()) };
    assert_eq!(status, zpdp_status::Ok);
    for entity in WORLD {
        let entity = CString::new(entity).expect("no NUL");
        // SAFETY: a live engine and a NUL-terminated string
        let status = unsafe { zpdp_engine_register(engine, entity.as_ptr(), ptr::null_mut()) };
        assert_eq!(status, zpdp_status::Ok);
    }
    let mut out: *mut c_char = ptr::null_mut();
    let mut error: *mut zpdp_error = ptr::null_mut();
    let status = match selector % 4 {
        // SAFETY: a live engine, a NUL-terminated string, valid out-pointers
        0 => unsafe { zpdp_engine_register(engine, json.as_ptr(), &raw mut error) },
        1 => {
            let mut seq = 0u64;
            // SAFETY: as above
            unsafe { zpdp_engine_apply(engine, json.as_ptr(), &raw mut seq, &raw mut error) }
        }
        // SAFETY: as above
        2 => unsafe {
            zpdp_engine_decide(
                engine,
                json.as_ptr(),
                ptr::null_mut(),
                &raw mut out,
                &raw mut error,
            )
        },
        // SAFETY: as above
        _ => unsafe { zpdp_engine_dashboard(engine, json.as_ptr(), &raw mut out, &raw mut error) },
    };
    assert_ne!(status, zpdp_status::Panic, "a panic inside the library");
    if status == zpdp_status::Ok {
        assert!(error.is_null(), "an error object on success");
        if !out.is_null() {
            // SAFETY: an owned NUL-terminated string from the library
            let answer = unsafe { CStr::from_ptr(out) }.to_str().expect("UTF-8");
            let value: serde_json::Value =
                serde_json::from_str(answer).expect("the answer is JSON");
            if selector % 4 == 2 && value.get("decision").and_then(|d| d.as_str()) == Some("allow")
            {
                let reasons = value
                    .get("reasons")
                    .and_then(|r| r.as_array())
                    .map_or(0, Vec::len);
                assert_eq!(reasons, 0, "an allow with reasons");
            }
        }
    } else {
        assert!(out.is_null(), "an out-parameter written on failure");
    }
    // SAFETY: each pointer is NULL or owned by us, freed once
    unsafe {
        zpdp_string_free(out);
    }
    // SAFETY: as above
    unsafe {
        zpdp_error_free(error);
    }
    // SAFETY: as above
    unsafe {
        zpdp_engine_free(engine);
    }
}
