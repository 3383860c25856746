//! Failures inside the library, and the `zpdp_error` object the host may ask for.

use std::ffi::{CString, c_char};

use zorg_pdp::{
    ConsentQueryError, DashboardError, EntityError, EntryError, EventError, ParseError,
    PolicyLoadError,
};

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

impl From<EntryError> for Failure {
    fn from(e: EntryError) -> Self {
        let message = e.to_string();
        let status = match e {
            EntryError::Entity { source, .. } => Failure::from(source).status,
            _ => zpdp_status::EventRejected,
        };
        Self::new(status, message)
    }
}

impl From<DashboardError> for Failure {
    fn from(e: DashboardError) -> Self {
        Self::new(zpdp_status::UnknownEntity, e.to_string())
    }
}

impl From<ConsentQueryError> for Failure {
    fn from(e: ConsentQueryError) -> Self {
        let status = match e {
            ConsentQueryError::Unknown { .. } => zpdp_status::UnknownEntity,
            ConsentQueryError::Stale { .. } => zpdp_status::StaleFacts,
            // Fields that do not fit together: the question is malformed
            _ => zpdp_status::ParseError,
        };
        Self::new(status, e.to_string())
    }
}

impl From<PolicyLoadError> for Failure {
    fn from(e: PolicyLoadError) -> Self {
        // One line, as `zpdp_error_message` promises: a list of errors joins
        // with "; ", and the operating system's reason (the source) follows.
        let mut message = e
            .to_string()
            .replace(":\n  ", ": ")
            .replace("\n  ", "; ")
            .replace('\n', " ");
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::new(zpdp_status::PolicyLoadError, message)
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

#[cfg(test)]
mod tests {
    use super::Failure;

    #[test]
    fn policy_load_messages_are_one_line_with_the_operating_systems_reason() {
        let dir = std::env::temp_dir().join(format!("zpdp-no-policies-{}", std::process::id()));
        let e = zorg_pdp::Policies::from_dir(&dir).unwrap_err();
        let failure = Failure::from(e);
        assert!(failure.message.contains("zpdp-no-policies"), "{failure:?}");
        // The operating system's reason, from the error's source
        assert!(failure.message.contains("(os error"), "{failure:?}");

        let schema = include_str!("../../policies/zorg.cedarschema");
        let bad = "@id(\"a\") permit(principal, action == Action::\"view\", resource) when { context.x };\n\
                   @id(\"b\") permit(principal, action == Action::\"view\", resource) when { context.y };";
        let e = zorg_pdp::Policies::from_sources(schema, [("a.cedar", bad)]).unwrap_err();
        let failure = Failure::from(e);
        assert!(!failure.message.contains('\n'), "{failure:?}");
        assert!(
            failure
                .message
                .starts_with("strict validation failed: `a.cedar` line 1, policy `a`: "),
            "{failure:?}"
        );
        assert!(
            failure.message.contains("; `a.cedar` line 2, policy `b`: "),
            "{failure:?}"
        );
    }
}
