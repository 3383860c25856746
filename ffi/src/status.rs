//! The status code every fallible function returns.

use std::ffi::c_char;

/// What a call did: `ZPDP_STATUS_OK` or why it failed
///
/// The numbers are stable: a new status gets a new number at the end, and a
/// retired number is never reused. On anything but `ZPDP_STATUS_OK` no
/// out-parameter was written; the optional `zpdp_error` says more.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[expect(non_camel_case_types, reason = "C type names are snake_case")]
pub enum zpdp_status {
    /// Success; the out-parameters were written
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL (the message names it)
    NullParameter = 1,
    /// A string argument is not valid UTF-8
    InvalidUtf8 = 2,
    /// A JSON argument is malformed, has an unknown or duplicate field, a
    /// malformed id or time, or fields that do not fit its type or action
    ParseError = 3,
    /// The input names an entity (or a role, task, ...) the engine does not know
    UnknownEntity = 4,
    /// The engine refused the event (an unknown entity, a duplicate record, ...);
    /// its state is unchanged
    EventRejected = 5,
    /// The policies could not be read, parsed or validated
    PolicyLoadError = 6,
    /// The library panicked (a bug). Nothing was decided: never treat this as
    /// an allow. The engine handle is poisoned.
    Panic = 7,
    /// An earlier call on this engine panicked; make a new engine
    Poisoned = 8,
    /// A string argument is longer than the library accepts (64 KiB for JSON)
    InputTooLarge = 9,
    /// The engine refused the entity (for example, its registry is full)
    EntityRejected = 10,
    /// The library could not encode its answer (a bug); nothing was written
    InternalError = 11,
    /// A consent question's `min_seq` is above the last position the engine
    /// applied (SPEC.md §8, R47): treat it as a deny; wait and ask again, or
    /// ask a replica that is caught up. (A decision with a stale token is
    /// not an error: it is a deny with reason `stale_facts`.)
    StaleFacts = 12,
}

impl zpdp_status {
    /// Every status, in numeric order
    pub(crate) const ALL: [zpdp_status; 13] = [
        zpdp_status::Ok,
        zpdp_status::NullParameter,
        zpdp_status::InvalidUtf8,
        zpdp_status::ParseError,
        zpdp_status::UnknownEntity,
        zpdp_status::EventRejected,
        zpdp_status::PolicyLoadError,
        zpdp_status::Panic,
        zpdp_status::Poisoned,
        zpdp_status::InputTooLarge,
        zpdp_status::EntityRejected,
        zpdp_status::InternalError,
        zpdp_status::StaleFacts,
    ];

    /// The C name, NUL-terminated
    pub(crate) const fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            zpdp_status::Ok => c"ZPDP_STATUS_OK",
            zpdp_status::NullParameter => c"ZPDP_STATUS_NULL_PARAMETER",
            zpdp_status::InvalidUtf8 => c"ZPDP_STATUS_INVALID_UTF8",
            zpdp_status::ParseError => c"ZPDP_STATUS_PARSE_ERROR",
            zpdp_status::UnknownEntity => c"ZPDP_STATUS_UNKNOWN_ENTITY",
            zpdp_status::EventRejected => c"ZPDP_STATUS_EVENT_REJECTED",
            zpdp_status::PolicyLoadError => c"ZPDP_STATUS_POLICY_LOAD_ERROR",
            zpdp_status::Panic => c"ZPDP_STATUS_PANIC",
            zpdp_status::Poisoned => c"ZPDP_STATUS_POISONED",
            zpdp_status::InputTooLarge => c"ZPDP_STATUS_INPUT_TOO_LARGE",
            zpdp_status::EntityRejected => c"ZPDP_STATUS_ENTITY_REJECTED",
            zpdp_status::InternalError => c"ZPDP_STATUS_INTERNAL_ERROR",
            zpdp_status::StaleFacts => c"ZPDP_STATUS_STALE_FACTS",
        }
    }

    /// The status with this number, if there is one (a `u32` from C is never
    /// trusted to be a valid `zpdp_status`)
    pub(crate) fn from_u32(n: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|s| *s as u32 == n)
    }
}

/// The name of a status, such as `"ZPDP_STATUS_PARSE_ERROR"`, for logs
///
/// Takes any number: an unknown one gives `"ZPDP_STATUS_UNKNOWN"`.
///
/// # Safety
///
/// Always safe to call, from any thread. The returned string is static:
/// never free it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_status_name(status: u32) -> *const c_char {
    crate::guard::or_default(c"ZPDP_STATUS_UNKNOWN".as_ptr(), || {
        zpdp_status::from_u32(status)
            .map_or(c"ZPDP_STATUS_UNKNOWN", zpdp_status::c_name)
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dense_and_names_match() {
        for (n, s) in (0u32..).zip(zpdp_status::ALL) {
            assert_eq!(s as u32, n);
            assert_eq!(zpdp_status::from_u32(n), Some(s));
            assert!(s.c_name().to_str().unwrap().starts_with("ZPDP_STATUS_"));
        }
        assert_eq!(
            zpdp_status::StaleFacts as u32,
            12,
            "appended: old numbers keep their meaning"
        );
        assert_eq!(zpdp_status::from_u32(13), None);
        assert_eq!(zpdp_status::from_u32(u32::MAX), None);
    }
}
