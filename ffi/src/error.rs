//! Failures inside the library, and the `zpdp_error` object the host may ask for.

use std::ffi::{CString, c_char};

use zorg_pdp::{DashboardError, EntityError, EventError, ParseError, PolicyLoadError};

use crate::status::zpdp_status;

/// A failed call: the status and a message (lowercase, ids only, never clinical content)
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: zpdp_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: zpdp_status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// A NULL argument
    pub(crate) fn null(argument: &str) -> Self {
        Self::new(
            zpdp_status::NullParameter,
            format!("argument `{argument}` is NULL"),
        )
    }
}

impl From<ParseError> for Failure {
    fn from(e: ParseError) -> Self {
        let status = match e {
            ParseError::TooLarge { .. } => zpdp_status::InputTooLarge,
            _ => zpdp_status::ParseError,
        };
        Self::new(status, e.to_string())
    }
}

impl From<EventError> for Failure {
    fn from(e: EventError) -> Self {
        Self::new(zpdp_status::EventRejected, e.to_string())
    }
}

impl From<EntityError> for Failure {
    fn from(e: EntityError) -> Self {
        let status = match e {
            EntityError::UnknownOrganisation { .. } | EntityError::UnknownValue { .. } => {
                zpdp_status::UnknownEntity
            }
            _ => zpdp_status::EntityRejected,
        };
        Self::new(status, e.to_string())
    }
}

impl From<DashboardError> for Failure {
    fn from(e: DashboardError) -> Self {
        Self::new(zpdp_status::UnknownEntity, e.to_string())
    }
}

impl From<PolicyLoadError> for Failure {
    fn from(e: PolicyLoadError) -> Self {
        Self::new(zpdp_status::PolicyLoadError, e.to_string())
    }
}

/// Details of a failed call: its status and a message
///
/// Made by the library on failure when the caller passed a non-NULL
/// `zpdp_error **error_out`; freed with `zpdp_error_free`.
#[derive(Debug)]
#[expect(non_camel_case_types, reason = "C type names are snake_case")]
pub struct zpdp_error {
    status: zpdp_status,
    message: CString,
}

impl zpdp_error {
    pub(crate) fn new(failure: Failure) -> Self {
        // A message holds no NUL (inputs are C strings); should one slip
        // through, it is shown escaped rather than cut short.
        let message = CString::new(failure.message).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0");
            CString::new(text).unwrap_or_default()
        });
        Self {
            status: failure.status,
            message,
        }
    }

    pub(crate) fn status(&self) -> zpdp_status {
        self.status
    }

    pub(crate) fn message(&self) -> &std::ffi::CStr {
        &self.message
    }
}

/// The error's message: UTF-8, NUL-terminated, one line
///
/// Returns `""` (a static empty string) when `error` is NULL, never NULL.
///
/// # Safety
///
/// `error` is NULL or an error from this library that was not freed. The
/// returned string is *borrowed* from `error`: it stays valid until
/// `zpdp_error_free(error)`; never free it yourself. Safe to call from any
/// thread, as long as no other thread frees `error` meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_error_message(error: *const zpdp_error) -> *const c_char {
    crate::guard::or_default(c"".as_ptr(), || {
        // SAFETY: the caller passes NULL or a live error (see # Safety)
        let error = unsafe { crate::handles::borrow(error) };
        error.map_or(c"".as_ptr(), |e| e.message().as_ptr())
    })
}

/// The error's status; `ZPDP_STATUS_NULL_PARAMETER` when `error` is NULL
///
/// # Safety
///
/// `error` is NULL or an error from this library that was not freed. Safe to
/// call from any thread, as long as no other thread frees `error` meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_error_status(error: *const zpdp_error) -> zpdp_status {
    crate::guard::or_default(zpdp_status::Panic, || {
        // SAFETY: the caller passes NULL or a live error (see # Safety)
        let error = unsafe { crate::handles::borrow(error) };
        error.map_or(zpdp_status::NullParameter, zpdp_error::status)
    })
}

/// Frees an error; `zpdp_error_free(NULL)` does nothing
///
/// # Safety
///
/// `error` is NULL or an error from this library, freed at most once; any
/// message borrowed from it is invalid afterwards. No other thread may use
/// `error` during or after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_error_free(error: *mut zpdp_error) {
    crate::guard::or_default((), || {
        // SAFETY: NULL or an error this library made and the caller gives back once
        unsafe { crate::handles::free(error) };
    });
}
