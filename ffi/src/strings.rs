//! C strings in (borrowed, checked) and out (owned, freed with `zpdp_string_free`).

use std::ffi::{CStr, CString, c_char};

use crate::error::Failure;
use crate::status::zpdp_status;

/// The longest JSON argument accepted, in bytes (not counting the NUL): the
/// core's limit for one request, event, entity or dashboard query
pub(crate) const MAX_JSON_LEN: usize = zorg_pdp::MAX_JSON_LEN;

/// The longest path argument accepted, in bytes
pub(crate) const MAX_PATH_LEN: usize = 4096;

/// Borrows a NUL-terminated UTF-8 argument of at most `limit` bytes
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn str_arg<'a>(
    ptr: *const c_char,
    argument: &str,
    limit: usize,
) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(argument));
    }
    // SAFETY: non-NULL, and NUL-terminated and live for `'a` by the contract above
    let text = unsafe { CStr::from_ptr(ptr) };
    let bytes = text.to_bytes();
    if bytes.len() > limit {
        return Err(Failure::new(
            zpdp_status::InputTooLarge,
            format!(
                "argument `{argument}`: {} bytes is more than the limit of {limit}",
                bytes.len()
            ),
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            zpdp_status::InvalidUtf8,
            format!(
                "argument `{argument}`: not valid UTF-8 at byte {}",
                e.valid_up_to()
            ),
        )
    })
}

/// JSON text for the caller to own and free with `zpdp_string_free`
pub(crate) fn json_out<T: serde::Serialize>(value: &T, what: &str) -> Result<*mut c_char, Failure> {
    let json = serde_json::to_string(value).map_err(|e| {
        Failure::new(
            zpdp_status::InternalError,
            format!("{what}: cannot encode: {e}"),
        )
    })?;
    // JSON escapes control characters, so it never holds a NUL byte
    let owned = CString::new(json).map_err(|_| {
        Failure::new(
            zpdp_status::InternalError,
            format!("{what}: cannot encode: a NUL byte"),
        )
    })?;
    Ok(owned.into_raw())
}

/// Plain text (a digest) for the caller to own and free with `zpdp_string_free`
pub(crate) fn text_out(text: String, what: &str) -> Result<*mut c_char, Failure> {
    let owned = CString::new(text).map_err(|_| {
        Failure::new(
            zpdp_status::InternalError,
            format!("{what}: cannot encode: a NUL byte"),
        )
    })?;
    Ok(owned.into_raw())
}

/// Frees a string made by [`json_out`] or [`text_out`]; NULL is a no-op
///
/// # Safety
///
/// `ptr` is NULL or came from [`json_out`] or [`text_out`] and is not used again.
pub(crate) unsafe fn free_string(ptr: *mut c_char) {
    if !ptr.is_null() {
        // SAFETY: made by `CString::into_raw` in `json_out` or `text_out` and given back once
        drop(unsafe { CString::from_raw(ptr) });
    }
}

/// Frees a string this library returned as *owned* (`response_json_out`,
/// `answer_json_out`); `zpdp_string_free(NULL)` does nothing
///
/// # Safety
///
/// `string` is NULL or a string this library returned as owned, freed at
/// most once and not used afterwards. Never pass a static string (from
/// `zpdp_version`, `zpdp_status_name`), a borrowed one (from
/// `zpdp_error_message`) or memory from `malloc`. Safe to call from any
/// thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_string_free(string: *mut c_char) {
    crate::guard::or_default((), || {
        // SAFETY: NULL or an owned string of this library, by the contract above
        unsafe { free_string(string) };
    });
}
