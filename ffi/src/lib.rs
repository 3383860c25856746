//! The C ABI of zorg-pdp, for hosts that call the engine in-process (legacy
//! EHRs in C, C++, Delphi, .NET through P/Invoke).
//!
//! The header `ffi/include/zorg_pdp.h` is generated from this crate by
//! cbindgen (`ffi/check-header.sh --update`) and is the C reference. The
//! rules every function follows:
//!
//! - Every symbol starts with `zpdp_`. Handles are opaque (`zpdp_engine`).
//! - Every fallible function returns a `zpdp_status`; out-parameters are
//!   written only on `ZPDP_STATUS_OK`. An optional `zpdp_error **error_out`
//!   (NULL: no details wanted) receives a message on failure.
//! - Every pointer the library hands out has one matching free function, and
//!   `_free(NULL)` does nothing. Strings are *owned* (`zpdp_string_free`),
//!   *borrowed* (from an error, until `zpdp_error_free`) or *static*.
//! - Inputs are NUL-terminated UTF-8 JSON of at most 64 KiB; unknown fields
//!   and duplicate keys are refused. The JSON Schemas are in `schemas/`.
//! - A panic never crosses into C: the call returns `ZPDP_STATUS_PANIC`
//!   (never an allow) and poisons its engine. This needs `panic = "unwind"`,
//!   which the workspace profiles set; the crate does not compile under
//!   `abort`.
//! - `zpdp_engine_decide` also writes a typed `zpdp_decision` (deny is 0), so
//!   a host can fail closed without a JSON parser: allow only on
//!   `ZPDP_STATUS_OK` with `ZPDP_DECISION_ALLOW`.
//! - `zpdp_engine_decide` and `zpdp_engine_dashboard` are safe to call on one
//!   engine from many threads at once, also during
//!   `zpdp_engine_reload_from_dir` (decisions in flight finish with the old
//!   policies).

// The C ABI is this crate's whole purpose: raw pointers, `no_mangle` and
// `unsafe extern "C"` functions. Pointer handling is confined to `handles`
// and `strings`; every `unsafe` block does one thing and says why it is sound.
#![expect(
    unsafe_code,
    reason = "this crate is the C ABI boundary; the core crate forbids unsafe"
)]

mod audit;
mod consent;
mod decision;
mod engine;
mod error;
mod guard;
mod handles;
mod status;
mod strings;

use std::ffi::{CStr, c_char};

pub use audit::zpdp_audit_callback;
pub use consent::{
    zpdp_engine_consent_check, zpdp_engine_consent_locate, zpdp_engine_consent_overview,
};
pub use decision::zpdp_decision;
pub use engine::{
    zpdp_engine_apply, zpdp_engine_apply_entry, zpdp_engine_audit_failures, zpdp_engine_dashboard,
    zpdp_engine_decide, zpdp_engine_free, zpdp_engine_new_from_dir, zpdp_engine_new_shipped,
    zpdp_engine_register, zpdp_engine_reload_from_dir, zpdp_engine_set_audit_callback,
    zpdp_engine_state_digest,
};
pub use error::{zpdp_error, zpdp_error_free, zpdp_error_message, zpdp_error_status};
pub use handles::zpdp_engine;
pub use status::{zpdp_status, zpdp_status_name};
pub use strings::zpdp_string_free;

/// The library's major version (semver); `zpdp_version()` gives all of it
pub const ZPDP_VERSION_MAJOR: u32 = 0;
/// The library's minor version
pub const ZPDP_VERSION_MINOR: u32 = 1;
/// The library's patch version
pub const ZPDP_VERSION_PATCH: u32 = 0;

/// The version as a C string, from Cargo.toml
const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };

/// The library's version, such as `"0.1.0"`
///
/// No ABI stability is promised between versions yet: link the header and
/// the library of the same version (compare with `ZPDP_VERSION_MAJOR`,
/// `ZPDP_VERSION_MINOR` and `ZPDP_VERSION_PATCH` at run time if the library
/// is loaded dynamically).
///
/// # Safety
///
/// Always safe to call, from any thread. The returned string is static:
/// never free it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_version() -> *const c_char {
    guard::or_default(c"unknown".as_ptr(), || VERSION.as_ptr())
}

#[cfg(test)]
mod tests;
