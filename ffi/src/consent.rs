//! The consent questions of SPEC.md §7.5: JSON in, JSON out, like
//! `zpdp_engine_dashboard`.

use std::ffi::c_char;

use serde::Serialize;
use zorg_pdp::{ConsentCheckQuery, ConsentLocateQuery, ConsentOverviewQuery, Engine};

use crate::error::{Failure, zpdp_error};
use crate::guard;
use crate::handles::{ErrorOut, Out, zpdp_engine};
use crate::status::zpdp_status;
use crate::strings::{self, MAX_JSON_LEN};

/// One consent question: parse `query_json`, ask `ask`, write the answer
///
/// # Safety
///
/// As the public functions' `# Safety` sections.
unsafe fn question<A: Serialize>(
    name: &'static str,
    what: &'static str,
    engine: *const zpdp_engine,
    query_json: *const c_char,
    answer_json_out: *mut *mut c_char,
    error_out: *mut *mut zpdp_error,
    ask: impl FnOnce(&Engine, &str) -> Result<A, Failure>,
) -> zpdp_status {
    // SAFETY: NULL or writable until the call returns (the caller's # Safety)
    let error_out = unsafe { ErrorOut::new(error_out) };
    guard::call(name, error_out, |armed| {
        // SAFETY: NULL or a live engine (the caller's # Safety)
        let engine = unsafe { armed.engine(engine) }?;
        // SAFETY: NULL or a NUL-terminated string live for the call (the caller's # Safety)
        let json = unsafe { strings::str_arg(query_json, "query_json", MAX_JSON_LEN) }?;
        let out = Out::required(answer_json_out, "answer_json_out")?;
        let answer = ask(engine, json)?;
        let text = strings::json_out(&answer, what)?;
        // SAFETY: non-NULL and writable (the caller's # Safety)
        unsafe { out.write(text) };
        Ok(())
    })
}

/// `consent_check`, the Mitz closed question: per data category asked, may
/// the holder make the patient's data available to the requester?
///
/// `query_json` is one question (`schemas/consent-check-query.schema.json`):
/// `{"patient": "client-1", "holder": "zh-noord", "requester": "kz-oost",
/// "data_categories": ["GGC013"], "at": "2026-02-02T10:00:00Z"}` (or
/// `"requester_category": "RPZAC004"` with a `"principal"`). On success
/// `*answer_json_out` receives the answer
/// (`schemas/consent-check-answer.schema.json`): per data category `permit`,
/// `no_choice`, `refused` or `indeterminate` (treat every answer but
/// `permit` as deny), with the ids of the statements that decided. Audited
/// like a decision: one record per data category.
///
/// Statuses: `ZPDP_STATUS_PARSE_ERROR` (also for `requester` and
/// `requester_category` both or neither given), `ZPDP_STATUS_INPUT_TOO_LARGE`,
/// `ZPDP_STATUS_UNKNOWN_ENTITY` (an id or code is not known; the message
/// names the field), `ZPDP_STATUS_STALE_FACTS` (the query's `min_seq` is
/// above the last applied position, SPEC.md §8: treat it as a deny).
///
/// Thread safety: as `zpdp_engine_decide`.
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
pub unsafe extern "C" fn zpdp_engine_consent_check(
    engine: *const zpdp_engine,
    query_json: *const c_char,
    answer_json_out: *mut *mut c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: the caller's # Safety is the helper's
    unsafe {
        question(
            "zpdp_engine_consent_check",
            "consent check answer",
            engine,
            query_json,
            answer_json_out,
            error_out,
            |engine, json| Ok(engine.consent_check(&ConsentCheckQuery::from_json(json)?)?),
        )
    }
}

/// `consent_locate`, the Mitz open question: the patient's holders where
/// the requester may find data, with the data categories permitted there
///
/// `query_json`: `{"patient": "client-1", "requester": "kz-oost", "at": …}`
/// (`schemas/consent-locate-query.schema.json`); the answer:
/// `schemas/consent-locate-answer.schema.json`. Audited: one record per
/// candidate holder. Statuses, thread safety and `# Safety` as
/// `zpdp_engine_consent_check`.
///
/// # Safety
///
/// As `zpdp_engine_consent_check`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_consent_locate(
    engine: *const zpdp_engine,
    query_json: *const c_char,
    answer_json_out: *mut *mut c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: the caller's # Safety is the helper's
    unsafe {
        question(
            "zpdp_engine_consent_locate",
            "consent locate answer",
            engine,
            query_json,
            answer_json_out,
            error_out,
            |engine, json| Ok(engine.consent_locate(&ConsentLocateQuery::from_json(json)?)?),
        )
    }
}

/// `consent_overview`: every consent statement in force for the patient,
/// and the resolved answer per holder × requesting category × data category
///
/// `query_json`: `{"principal": {"patient": "client-1"}, "patient":
/// "client-1", "at": …}` (`schemas/consent-overview-query.schema.json`);
/// the answer: `schemas/consent-overview-answer.schema.json`. Audited: one
/// record. Statuses, thread safety and `# Safety` as
/// `zpdp_engine_consent_check`.
///
/// # Safety
///
/// As `zpdp_engine_consent_check`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zpdp_engine_consent_overview(
    engine: *const zpdp_engine,
    query_json: *const c_char,
    answer_json_out: *mut *mut c_char,
    error_out: *mut *mut zpdp_error,
) -> zpdp_status {
    // SAFETY: the caller's # Safety is the helper's
    unsafe {
        question(
            "zpdp_engine_consent_overview",
            "consent overview answer",
            engine,
            query_json,
            answer_json_out,
            error_out,
            |engine, json| Ok(engine.consent_overview(&ConsentOverviewQuery::from_json(json)?)?),
        )
    }
}
