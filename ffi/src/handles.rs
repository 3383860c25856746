//! Pointer handling: handles in and out of boxes, borrowed arguments,
//! out-parameters. The exported functions never touch a raw pointer
//! themselves; they call these helpers.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};

use zorg_pdp::Engine;

use crate::error::{Failure, zpdp_error};

/// An engine: the shipped or a loaded policy set, the registry of entities
/// and facts, and an optional audit callback
///
/// Made by `zpdp_engine_new_shipped` or `zpdp_engine_new_from_dir`, freed by
/// `zpdp_engine_free`. `zpdp_engine_decide` and `zpdp_engine_dashboard` take
/// a `const zpdp_engine *` and are safe to call on one engine from many
/// threads at once; so are the other engine functions, which lock briefly.
#[derive(Debug)]
#[expect(non_camel_case_types, reason = "C type names are snake_case")]
pub struct zpdp_engine {
    pub(crate) engine: Engine,
    /// Set when a call on this engine panicked; every later call but
    /// `zpdp_engine_free` then fails with `ZPDP_STATUS_POISONED`
    poisoned: AtomicBool,
}

impl zpdp_engine {
    pub(crate) fn new(engine: Engine) -> Self {
        Self {
            engine,
            poisoned: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    pub(crate) fn poison(&self) {
        self.poisoned.store(true, Ordering::Release);
    }
}

/// Moves `value` to the heap and hands out the pointer; the matching
/// `zpdp_*_free` gives it back to [`free`]
pub(crate) fn into_raw<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Drops a value made by [`into_raw`]; NULL is a no-op
///
/// # Safety
///
/// `ptr` is NULL or came from [`into_raw`] with the same `T`, and is not
/// used again (nor freed twice).
pub(crate) unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: non-NULL, and by the contract above made by `Box::into_raw`
        // for this `T` and given back exactly once
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// Borrows a value made by [`into_raw`]; `None` for NULL
///
/// # Safety
///
/// `ptr` is NULL or points to a live `T` that is not freed (nor mutated
/// without synchronisation) while the borrow lasts.
pub(crate) unsafe fn borrow<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: NULL gives `None`; otherwise the contract above makes the
    // pointer valid and aligned for `'a`
    unsafe { ptr.as_ref() }
}

/// An out-parameter that was checked for NULL; written only on success
#[derive(Debug)]
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// A required out-parameter: NULL is `ZPDP_STATUS_NULL_PARAMETER`
    pub(crate) fn required(ptr: *mut T, argument: &str) -> Result<Self, Failure> {
        NonNull::new(ptr)
            .map(Self)
            .ok_or_else(|| Failure::null(argument))
    }

    /// An optional out-parameter: NULL means the caller does not want it
    pub(crate) fn optional(ptr: *mut T) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    /// Stores `value` without reading or dropping what was there
    ///
    /// # Safety
    ///
    /// The pointer is valid for a write of `T` and aligned, and no other
    /// thread reads or writes it meanwhile.
    pub(crate) unsafe fn write(self, value: T) {
        // SAFETY: non-NULL by construction; valid and aligned by the contract above
        unsafe { self.0.as_ptr().write(value) };
    }
}

/// The caller's optional `zpdp_error **error_out`
#[derive(Debug)]
pub(crate) struct ErrorOut(Option<Out<*mut zpdp_error>>);

impl ErrorOut {
    /// Wraps the caller's `error_out`
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or valid for writing one pointer until the call returns.
    pub(crate) unsafe fn new(ptr: *mut *mut zpdp_error) -> Self {
        Self(Out::optional(ptr))
    }

    /// Hands a failure to the caller, if it asked for details
    pub(crate) fn report(self, failure: Failure) {
        if let Some(out) = self.0 {
            let error = into_raw(zpdp_error::new(failure));
            // SAFETY: non-NULL, and writable as promised to `ErrorOut::new`
            unsafe { out.write(error) };
        }
    }
}
