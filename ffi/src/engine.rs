//! The engine functions: make, reload, register, apply, apply a log entry,
//! decide, dashboard, audit, the state digest, free.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use zorg_pdp::{Applied, DashboardQuery, Engine, EntityRecord, Event, LogEntry, Policies, Request};

use crate::audit::{CallbackSink, zpdp_audit_callback};
use crate::decision::zpdp_decision;
use crate::error::{Failure, zpdp_error};
use crate::guard;
use crate::handles::{self, ErrorOut, Out, zpdp_engine};
use crate::status::zpdp_status;
use crate::strings::{self, MAX_JSON_LEN, MAX_PATH_LEN};

/// Makes an engine with the policies built into the library and an empty registry
///
/// On success writes a new engine to `*engine_out`; the caller owns it and
/// frees it with `zpdp_engine_free`.
///
/// # Safety
///
/// - `engine_out` must not be NULL (`ZPDP_STATUS_NULL_PARAMETER`) and must be
///   valid for writing one pointer; it is written only on success.
/// - `error_out` is NULL (no details wanted) or valid for writing one
///   pointer; on failure it receives a `zpdp_error` to free with
///   `zpdp_error_free`, on success it is not touched.
/// - Safe to call from any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_new_shipped(
    engine_out: *mut *mut zpdp_engine,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_new_shipped", error_out, |_| {
        let out = Out::required(engine_out, "engine_out")?;
        let engine = Engine::new()?;
        let handle = handles::into_raw(zpdp_engine::new(engine));
        // SAFETY: non-NULL and writable (see # Safety)
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Makes an engine with the policies in a folder (`*.cedar` and the
/// `.cedarschema`, as shipped in `policies/`) and an empty registry
///
/// The policies are read, parsed and strictly validated now; later changes
/// to the folder do not affect the engine. On success writes a new engine to
/// `*engine_out`; the caller owns it and frees it with `zpdp_engine_free`.
///
/// # Safety
///
/// - `dir` must not be NULL: a NUL-terminated UTF-8 path of at most 4096
///   bytes, only read during the call.
/// - `engine_out` must not be NULL and must be valid for writing one pointer;
///   it is written only on success.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error` (`ZPDP_STATUS_POLICY_LOAD_ERROR` names the file
///   and the problem), on success it is not touched.
/// - Safe to call from any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_new_from_dir(
    dir: *const c_char,
    engine_out: *mut *mut zpdp_engine,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_new_from_dir", error_out, |_| {
        // SAFETY: NULL or a NUL-terminated string live for the call (see # Safety)
        let dir = unsafe { strings::str_arg(dir, "dir", MAX_PATH_LEN) }?;
        let out = Out::required(engine_out, "engine_out")?;
        let engine = Engine::with_policies(Policies::from_dir(dir)?);
        let handle = handles::into_raw(zpdp_engine::new(engine));
        // SAFETY: non-NULL and writable (see # Safety)
        unsafe { out.write(handle) };
        Ok(())
    })
}

/// Replaces an engine's policies with those in a folder (as
/// `zpdp_engine_new_from_dir` reads them), keeping its registry and its audit
/// callback
///
/// The folder is read, parsed and strictly validated first; only a policy set
/// that loads replaces the old one. On any failure the policies in force stay
/// in force, unchanged, and the status says why
/// (`ZPDP_STATUS_POLICY_LOAD_ERROR` names the file and the problem).
/// Decisions already running on other threads finish with the old policies;
/// every decision that starts after this returns `ZPDP_STATUS_OK` uses the
/// new ones. Entities, events, sequence numbers and the audit chain carry on
/// as before; audit records name the new policy set in `policy_version`.
///
/// Statuses: `ZPDP_STATUS_OK`, `ZPDP_STATUS_NULL_PARAMETER`,
/// `ZPDP_STATUS_INVALID_UTF8`, `ZPDP_STATUS_INPUT_TOO_LARGE` (a path over
/// 4096 bytes), `ZPDP_STATUS_POLICY_LOAD_ERROR`, `ZPDP_STATUS_POISONED`,
/// `ZPDP_STATUS_PANIC`.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `dir` must not be NULL: a NUL-terminated UTF-8 path of at most 4096
///   bytes, only read during the call.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
/// - Thread-safe: may run while other threads decide on the same engine;
///   deciders never wait for it (the policies are swapped atomically after
///   the folder has loaded). Two reloads at once: the one that finishes last
///   wins.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_reload_from_dir(
    engine: *mut zpdp_engine,
    dir: *const c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_reload_from_dir", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        // SAFETY: NULL or a NUL-terminated string live for the call (see # Safety)
        let dir = unsafe { strings::str_arg(dir, "dir", MAX_PATH_LEN) }?;
        // INVARIANT: nothing changes until the whole folder has loaded
        let policies = Policies::from_dir(dir)?;
        engine.reload(policies);
        Ok(())
    })
}

/// Frees an engine; `zpdp_engine_free(NULL)` does nothing
///
/// Also drops its audit callback: `userdata` is not used after this returns.
/// A poisoned engine is freed like any other.
///
/// # Safety
///
/// `engine` is NULL or an engine from `zpdp_engine_new_*`, freed at most
/// once. No other thread may use the engine during or after this call: wait
/// for every call on it to return first.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_free(engine: *mut zpdp_engine) {
    guard::or_default((), || {
        // SAFETY: NULL or an engine this library made, given back once (see # Safety)
        unsafe { handles::free(engine) };
    });
}

/// Registers an entity, or updates one registered before
///
/// `entity_json` is one entity record (`schemas/entity.schema.json`):
/// `{"organisation": {"id": ..., "name"?: ..., "kind"?: ...}}`,
/// `{"practitioner": {"id": ..., "organisation": ..., "role": ..., "tasks"?: [...]}}`
/// or `{"patient": {"id": ...}}`. Register a practitioner's organisation first.
///
/// Statuses: `ZPDP_STATUS_PARSE_ERROR` (malformed JSON, unknown or duplicate
/// field, malformed id), `ZPDP_STATUS_INPUT_TOO_LARGE` (over 64 KiB),
/// `ZPDP_STATUS_UNKNOWN_ENTITY` (an unregistered organisation, or a role or
/// task the policies do not declare), `ZPDP_STATUS_ENTITY_REJECTED`.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `entity_json` must not be NULL: NUL-terminated UTF-8, only read during the call.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
/// - Thread-safe: may run while other threads decide on the same engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_register(
    engine: *mut zpdp_engine,
    entity_json: *const c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_register", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        // SAFETY: NULL or a NUL-terminated string live for the call (see # Safety)
        let json = unsafe { strings::str_arg(entity_json, "entity_json", MAX_JSON_LEN) }?;
        let entity = EntityRecord::from_json(json)?;
        engine.register(entity)?;
        Ok(())
    })
}

/// Applies an event (a fact with its time) and gives its position: the last
/// applied position plus one (SPEC.md §8; every registered entity takes one
/// too). Entries of a host's ordered log with their own positions go through
/// `zpdp_engine_apply_entry`.
///
/// `event_json` is one event (`schemas/event.schema.json`), such as
/// `{"at": "2026-01-10T09:00:00Z", "type": "treatment_started",
/// "patient": "client-1", "organisation": "vp-noord"}`. Events may arrive in
/// any order; a decision at time `at` sees those at or before `at`.
///
/// Statuses: `ZPDP_STATUS_PARSE_ERROR` (malformed JSON, an unknown or
/// duplicate field, a malformed id or time, fields that do not fit the
/// type), `ZPDP_STATUS_INPUT_TOO_LARGE`, `ZPDP_STATUS_EVENT_REJECTED` (an
/// unknown entity or value, a duplicate record id, ...; the engine is
/// unchanged). The message names the event type and the field.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `event_json` must not be NULL: NUL-terminated UTF-8, only read during the call.
/// - `seq_out` is NULL (not wanted) or valid for writing a `uint64_t`; it is
///   written only on success.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
/// - Thread-safe: may run while other threads decide on the same engine
///   (it takes the registry's write lock briefly).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_apply(
    engine: *mut zpdp_engine,
    event_json: *const c_char,
    seq_out: *mut u64,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_apply", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        // SAFETY: NULL or a NUL-terminated string live for the call (see # Safety)
        let json = unsafe { strings::str_arg(event_json, "event_json", MAX_JSON_LEN) }?;
        let out = Out::optional(seq_out);
        let event = Event::from_json(json)?;
        let seq = engine.apply(&event)?;
        if let Some(out) = out {
            // SAFETY: non-NULL and writable (see # Safety)
            unsafe { out.write(seq) };
        }
        Ok(())
    })
}

/// Applies one entry of the host's ordered log at its own position (SPEC.md §8)
///
/// `entry_json` is one log entry (`schemas/log-entry.schema.json`):
/// `{"position": 17, "event": {...}}` or `{"position": 18, "entity": {...}}`,
/// the position 1 or more (an outbox id, a stream sequence; gaps are fine).
/// An entry whose position is not above the last applied one is skipped as
/// already applied (R48: replaying a log from an earlier position changes
/// nothing): the call succeeds and writes 0 to `*position_out`. Otherwise the
/// entry is applied, the engine's last applied position becomes the entry's
/// and `*position_out` receives it.
///
/// Statuses: `ZPDP_STATUS_OK`, `ZPDP_STATUS_NULL_PARAMETER`,
/// `ZPDP_STATUS_INVALID_UTF8`, `ZPDP_STATUS_PARSE_ERROR` (malformed JSON,
/// position 0, not exactly one of `event` / `entity`, an event or entity that
/// does not parse), `ZPDP_STATUS_INPUT_TOO_LARGE`,
/// `ZPDP_STATUS_EVENT_REJECTED`, `ZPDP_STATUS_UNKNOWN_ENTITY` or
/// `ZPDP_STATUS_ENTITY_REJECTED` (as `zpdp_engine_apply` and
/// `zpdp_engine_register`; the engine is unchanged and the position is not
/// taken), `ZPDP_STATUS_POISONED`, `ZPDP_STATUS_PANIC`.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `entry_json` must not be NULL: NUL-terminated UTF-8, only read during the call.
/// - `position_out` is NULL (not wanted) or valid for writing a `uint64_t`;
///   it is written only on success.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
/// - Thread-safe: may run while other threads decide on the same engine
///   (it takes the registry's write lock briefly).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_apply_entry(
    engine: *mut zpdp_engine,
    entry_json: *const c_char,
    position_out: *mut u64,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_apply_entry", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        // SAFETY: NULL or a NUL-terminated string live for the call (see # Safety)
        let json = unsafe { strings::str_arg(entry_json, "entry_json", MAX_JSON_LEN) }?;
        let out = Out::optional(position_out);
        let entry = LogEntry::from_json(json)?;
        let position = match engine.apply_entry(&entry)? {
            Applied::Applied(p) => p,
            Applied::Skipped { .. } => 0,
        };
        if let Some(out) = out {
            // SAFETY: non-NULL and writable (see # Safety)
            unsafe { out.write(position) };
        }
        Ok(())
    })
}

/// The engine's state digest: `sha256:` and 64 lowercase hex digits over the
/// last applied position and the registry in a canonical order, by names
/// (SPEC.md §8, R48, R50). Two engines that applied the same entries give the
/// same digest: compare replicas with it.
///
/// Statuses: `ZPDP_STATUS_OK`, `ZPDP_STATUS_NULL_PARAMETER`,
/// `ZPDP_STATUS_POISONED`, `ZPDP_STATUS_PANIC`, `ZPDP_STATUS_INTERNAL_ERROR`.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `digest_out` must not be NULL and must be valid for writing one
///   pointer; written only on success with an *owned* string the caller
///   frees with `zpdp_string_free`.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
/// - Thread-safe: takes the registry's read lock, as a decision does.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_state_digest(
    engine: *const zpdp_engine,
    digest_out: *mut *mut c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_state_digest", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        let out = Out::required(digest_out, "digest_out")?;
        let text = strings::text_out(engine.state_digest(), "state digest")?;
        // SAFETY: non-NULL and writable (see # Safety)
        unsafe { out.write(text) };
        Ok(())
    })
}

/// May this principal do this, now? A request in; the decision out, typed,
/// and the response as JSON
///
/// `request_json` is one request (`schemas/request.schema.json`), such as
/// `{"principal": {"practitioner": "anna"}, "action": "view",
/// "patient": "client-1", "at": "2026-02-01T00:00:00Z", "mfa": true,
/// "holder": "vp-noord", "category": "basis"}` (`mfa` absent means false).
/// On success `*decision_out` receives `ZPDP_DECISION_ALLOW` or
/// `ZPDP_DECISION_DENY`, and `*response_json_out` the response
/// (`schemas/response.schema.json`): `{"decision": "allow"|"deny",
/// "reasons": [...], "policies": [...], "seq": N}`. The two always agree.
/// Ask for either or both: a host without a JSON parser passes NULL for
/// `response_json_out`; a host that reads the JSON may pass NULL for
/// `decision_out`.
///
/// Failing closed: allow only when the call returns `ZPDP_STATUS_OK` and
/// `*decision_out` is `ZPDP_DECISION_ALLOW`. On any other status nothing is
/// written (the out-parameters keep what they held), so initialise the
/// variable to `ZPDP_DECISION_DENY` (0) and check the status:
///
/// ```c
/// zpdp_decision decision = ZPDP_DECISION_DENY;
/// if (zpdp_engine_decide(engine, request, &decision, NULL, NULL) == ZPDP_STATUS_OK &&
///     decision == ZPDP_DECISION_ALLOW) {
///     show_the_data();
/// }
/// ```
///
/// A request that names an unknown id is not an error: it is a deny with
/// reason `unknown_entity`. Any evaluation problem is a deny too (fail
/// closed). Statuses: `ZPDP_STATUS_OK`, `ZPDP_STATUS_NULL_PARAMETER`,
/// `ZPDP_STATUS_INVALID_UTF8`, `ZPDP_STATUS_PARSE_ERROR`,
/// `ZPDP_STATUS_INPUT_TOO_LARGE`, `ZPDP_STATUS_POISONED`,
/// `ZPDP_STATUS_PANIC`, `ZPDP_STATUS_INTERNAL_ERROR`.
///
/// Thread safety: decide takes a `const zpdp_engine *` and is safe to call
/// on one engine from many threads at once, also while other threads apply
/// events, register entities or reload the policies; it takes no exclusive
/// lock.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `request_json` must not be NULL: NUL-terminated UTF-8, only read during the call.
/// - `decision_out` is NULL (not wanted) or valid for writing a
///   `zpdp_decision` (a `uint32_t`); written only on success.
/// - `response_json_out` is NULL (not wanted) or valid for writing one
///   pointer; written only on success with an *owned* string the caller
///   frees with `zpdp_string_free`.
/// - `decision_out` and `response_json_out` must not both be NULL
///   (`ZPDP_STATUS_NULL_PARAMETER`: the call would answer nobody).
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_decide(
    engine: *const zpdp_engine,
    request_json: *const c_char,
    decision_out: *mut zpdp_decision,
    response_json_out: *mut *mut c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_decide", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        // SAFETY: NULL or a NUL-terminated string live for the call (see # Safety)
        let json = unsafe { strings::str_arg(request_json, "request_json", MAX_JSON_LEN) }?;
        let decision_out = Out::optional(decision_out);
        let response_out = Out::optional(response_json_out);
        if decision_out.is_none() && response_out.is_none() {
            return Err(Failure::new(
                zpdp_status::NullParameter,
                "arguments `decision_out` and `response_json_out` are both NULL: nothing to answer",
            ));
        }
        let request = Request::from_json(json)?;
        let response = engine.decide(&request);
        // Everything that can fail happens before the first write
        let text = match response_out {
            Some(out) => Some((out, strings::json_out(&response, "response")?)),
            None => None,
        };
        if let Some(out) = decision_out {
            // SAFETY: non-NULL and writable (see # Safety)
            unsafe { out.write(zpdp_decision::of(&response)) };
        }
        if let Some((out, text)) = text {
            // SAFETY: non-NULL and writable (see # Safety)
            unsafe { out.write(text) };
        }
        Ok(())
    })
}

/// Which categories of which holder does this practitioner's dashboard show?
///
/// `query_json` is one dashboard query (`schemas/dashboard-query.schema.json`):
/// `{"principal": {"practitioner": "anna"}, "patient": "client-1",
/// "at": "2026-02-01T00:00:00Z", "mfa": true, "purpose"?: "treatment"}`. On
/// success `*answer_json_out` receives the answer
/// (`schemas/dashboard-answer.schema.json`): per holder the visible
/// categories (or the reasons none are), per started care module whether
/// the principal may contribute. Every entry equals the `view` decision it
/// summarises.
///
/// Statuses: `ZPDP_STATUS_PARSE_ERROR`, `ZPDP_STATUS_INPUT_TOO_LARGE`,
/// `ZPDP_STATUS_UNKNOWN_ENTITY` (the principal or the patient is not
/// registered; the message names the field).
///
/// Thread safety: as `zpdp_engine_decide`, safe to call on one engine from
/// many threads at once.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `query_json` must not be NULL: NUL-terminated UTF-8, only read during the call.
/// - `answer_json_out` must not be NULL and must be valid for writing one
///   pointer; written only on success with an *owned* string the caller
///   frees with `zpdp_string_free`.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_dashboard(
    engine: *const zpdp_engine,
    query_json: *const c_char,
    answer_json_out: *mut *mut c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_dashboard", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        // SAFETY: NULL or a NUL-terminated string live for the call (see # Safety)
        let json = unsafe { strings::str_arg(query_json, "query_json", MAX_JSON_LEN) }?;
        let out = Out::required(answer_json_out, "answer_json_out")?;
        let query = DashboardQuery::from_json(json)?;
        let answer = engine.dashboard(&query)?;
        let text = strings::json_out(&answer, "dashboard answer")?;
        // SAFETY: non-NULL and writable (see # Safety)
        unsafe { out.write(text) };
        Ok(())
    })
}

/// Sends an audit record of every later decision about patient data (and of
/// every dashboard holder) to `callback`; NULL `callback` stops auditing
///
/// Each record is sealed into a SHA-256 hash chain before the call: `seq`
/// counts from 1 for this callback, `prev_hash` is the previous record's
/// `hash` (64 zeros for the first). Records are JSON
/// (`schemas/audit-record.schema.json`), ids and codes only. Setting a new
/// callback starts a new chain and replaces the old one; decisions already
/// running may still report to the old callback, so keep its `userdata`
/// valid until they return (or until `zpdp_engine_free`).
///
/// The callback runs on the deciding thread, inside `zpdp_engine_decide` or
/// `zpdp_engine_dashboard`, one call at a time per engine; a slow callback
/// slows every deciding thread. It must not throw (C++), `longjmp`, or call
/// into this engine.
///
/// The audit callback survives `zpdp_engine_reload_from_dir`: its chain
/// goes on across a reload.
///
/// Statuses: `ZPDP_STATUS_OK`, `ZPDP_STATUS_NULL_PARAMETER` (NULL engine),
/// `ZPDP_STATUS_POISONED` or `ZPDP_STATUS_PANIC`; on failure the callback in
/// force (if any) stays in force.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `callback` is NULL or a function that is safe to call from any thread
///   with `userdata` (which may be NULL; the library never dereferences it)
///   until the callback is replaced and running decisions return, or the
///   engine is freed.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
/// - Thread-safe: may run while other threads decide on the same engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_set_audit_callback(
    engine: *mut zpdp_engine,
    callback: zpdp_audit_callback,
    userdata: *mut c_void,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_set_audit_callback", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        match callback {
            Some(callback) => {
                engine.set_audit_sink(Arc::new(CallbackSink::new(callback, userdata)));
            }
            None => engine.clear_audit_sink(),
        }
        Ok(())
    })
}

/// How many audit records the engine could not hand to the callback (each
/// belongs to a decision that was still answered; a host that must not
/// answer unaudited checks that this stays 0)
///
/// Statuses: `ZPDP_STATUS_OK`, `ZPDP_STATUS_NULL_PARAMETER`,
/// `ZPDP_STATUS_POISONED` or `ZPDP_STATUS_PANIC`.
///
/// # Safety
///
/// - `engine` must not be NULL: an engine from `zpdp_engine_new_*`, not freed.
/// - `count_out` must not be NULL and must be valid for writing a
///   `uint64_t`; it is written only on success.
/// - `error_out` is NULL or valid for writing one pointer; on failure it
///   receives a `zpdp_error`, on success it is not touched.
/// - Thread-safe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_audit_failures(
    engine: *const zpdp_engine,
    count_out: *mut u64,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (see # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call("zpdp_engine_audit_failures", error_out, |armed| {
        // SAFETY: NULL or a live engine (see # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        let out = Out::required(count_out, "count_out")?;
        let count = engine.audit_failures();
        // SAFETY: non-NULL and writable (see # Safety)
        unsafe { out.write(count) };
        Ok(())
    })
}
