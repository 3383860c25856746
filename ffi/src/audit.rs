//! The audit callback: an `AuditSink` that seals each record into a hash
//! chain and hands its JSON to a C function.

use std::ffi::{CString, c_char, c_void};
use std::sync::{Mutex, PoisonError};

use zorg_pdp::audit::{AuditError, GENESIS_HASH, seal};
use zorg_pdp::{AuditRecord, AuditSink};

/// Receives one audit record as JSON (see `schemas/audit-record.schema.json`)
///
/// `record_json` is borrowed: valid only during the call, so copy it to keep
/// it; never free it. `userdata` is the pointer given to
/// `zpdp_engine_set_audit_callback`. The callback runs on the thread that
/// decides, which may be any thread, but never on two threads at once for one
/// engine: calls are serialised, in `seq` order. It must return normally: a
/// C++ exception or `longjmp` out of it is undefined behaviour (it is
/// `extern "C"`, not `"C-unwind"`). It must not call into the same engine.
#[expect(non_camel_case_types, reason = "C type names are snake_case")]
pub type zpdp_audit_callback =
    Option<unsafe extern "C" fn(userdata: *mut c_void, record_json: *const c_char)>;

/// Where the chain stands
#[derive(Debug)]
struct Chain {
    seq: u64,
    prev: String,
}

/// A C callback as the engine's audit sink
pub(crate) struct CallbackSink {
    callback: unsafe extern "C" fn(*mut c_void, *const c_char),
    userdata: *mut c_void,
    chain: Mutex<Chain>,
}

// SAFETY: the sink only passes `userdata` back to `callback`, one call at a
// time (under `chain`'s lock); the caller of `zpdp_engine_set_audit_callback`
// promises that both may be used from any thread (its # Safety section).
unsafe impl Send for CallbackSink {}
// SAFETY: as for `Send`: the only shared use is the serialised callback call.
unsafe impl Sync for CallbackSink {}

impl std::fmt::Debug for CallbackSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackSink")
            .field("userdata", &self.userdata)
            .finish_non_exhaustive()
    }
}

impl CallbackSink {
    pub(crate) fn new(
        callback: unsafe extern "C" fn(*mut c_void, *const c_char),
        userdata: *mut c_void,
    ) -> Self {
        Self {
            callback,
            userdata,
            chain: Mutex::new(Chain {
                seq: 0,
                prev: GENESIS_HASH.to_owned(),
            }),
        }
    }
}

impl AuditSink for CallbackSink {
    fn record(&self, record: AuditRecord) -> Result<(), AuditError> {
        let mut chain = self.chain.lock().unwrap_or_else(PoisonError::into_inner);
        let seq = chain.seq + 1;
        let sealed = seal(record, seq, &chain.prev)?;
        let encode = |message: String| AuditError::Encode { seq, message };
        let json = serde_json::to_string(&sealed).map_err(|e| encode(e.to_string()))?;
        let json = CString::new(json).map_err(|_| encode("a NUL byte".to_owned()))?;
        // SAFETY: `callback` is a function of the right type, given with
        // `userdata` by the host, which promised both are usable from this
        // thread; `json` outlives the call.
        unsafe { (self.callback)(self.userdata, json.as_ptr()) };
        chain.seq = seq;
        chain.prev = sealed.hash;
        Ok(())
    }
}
