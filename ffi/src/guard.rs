//! The panic boundary: every exported body runs inside [`call`] or
//! [`or_default`], so no unwind ever crosses into C.
//!
//! A panic is a bug. It fails closed: the call returns `ZPDP_STATUS_PANIC`
//! and writes no out-parameter, so a decision is never reported as allow,
//! and the engine the call was using is poisoned (every later call on it but
//! `zpdp_engine_free` returns `ZPDP_STATUS_POISONED`): its registry or caches
//! may be half-updated.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use zorg_pdp::Engine;

use crate::error::Failure;
use crate::handles::{self, ErrorOut, zpdp_engine};
use crate::status::zpdp_status;

#[cfg(panic = "abort")]
compile_error!(
    "zorg-pdp-ffi needs `panic = \"unwind\"`: under `abort` its panic guard catches nothing and a bug aborts the host"
);

/// The engine a call is using, so a panic can poison it
#[derive(Debug, Default)]
pub(crate) struct Armed<'a>(Cell<Option<&'a zpdp_engine>>);

impl<'a> Armed<'a> {
    /// Borrows the call's engine: NULL is `ZPDP_STATUS_NULL_PARAMETER`, a
    /// poisoned one `ZPDP_STATUS_POISONED`; from here on a panic poisons it
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or an engine from `zpdp_engine_new_*` that is not freed
    /// while the call runs.
    pub(crate) unsafe fn engine(&self, ptr: *const zpdp_engine) -> Result<&'a Engine, Failure> {
        // SAFETY: NULL or a live engine, by the contract above
        let handle: &'a zpdp_engine =
            unsafe { handles::borrow(ptr) }.ok_or_else(|| Failure::null("engine"))?;
        if handle.is_poisoned() {
            return Err(Failure::new(
                zpdp_status::Poisoned,
                "this engine is poisoned by an earlier panic: free it and make a new one",
            ));
        }
        self.0.set(Some(handle));
        #[cfg(test)]
        test_hooks::panic_if_asked();
        Ok(&handle.engine)
    }
}

/// Runs a fallible body: `ZPDP_STATUS_OK`, or the failure's status with the
/// details in `*error_out` (when the caller gave one); a panic is
/// `ZPDP_STATUS_PANIC` and poisons the armed engine
pub(crate) fn call<'a>(
    function: &str,
    error_out: ErrorOut,
    body: impl FnOnce(&Armed<'a>) -> Result<(), Failure>,
) -> zpdp_status {
    let armed = Armed::default();
    let result = catch_unwind(AssertUnwindSafe(|| body(&armed))).unwrap_or_else(|_payload| {
        let poisoned = armed.0.get().inspect(|engine| engine.poison()).is_some();
        Err(Failure::new(
            zpdp_status::Panic,
            if poisoned {
                format!(
                    "`{function}` panicked (a bug in zorg-pdp): nothing was decided, and this engine is poisoned"
                )
            } else {
                format!("`{function}` panicked (a bug in zorg-pdp): nothing was done")
            },
        ))
    });
    match result {
        Ok(()) => zpdp_status::Ok,
        Err(failure) => {
            let status = failure.status;
            // Building the error allocates; a panic there still must not unwind into C
            or_default((), || error_out.report(failure));
            status
        }
    }
}

/// Runs an infallible body; a panic gives `default`
pub(crate) fn or_default<T>(default: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(default)
}

/// A test-only way to make the next engine call on this thread panic, right
/// after it armed its engine (never compiled into the library)
#[cfg(test)]
pub(crate) mod test_hooks {
    use std::cell::Cell;

    thread_local! {
        static PANIC_NEXT: Cell<bool> = const { Cell::new(false) };
    }

    /// The next engine call on this thread panics
    pub(crate) fn panic_next_call() {
        PANIC_NEXT.with(|p| p.set(true));
    }

    pub(super) fn panic_if_asked() {
        let asked = PANIC_NEXT.with(|p| p.replace(false));
        assert!(!asked, "forced panic (test hook)");
    }
}
