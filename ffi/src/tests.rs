//! The exported functions called as C calls them: statuses, out-parameters
//! written only on success, NULL everywhere, errors with and without an error
//! object, panics (through a test-only hook) and threads.

use std::ffi::{CStr, CString, c_char, c_void};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Mutex;

use super::*;
use crate::guard::test_hooks;

const ORGS: [&str; 2] = [
    r#"{"organisation":{"id":"vp-noord","name":"Verloskundigenpraktijk Noord"}}"#,
    r#"{"organisation":{"id":"kz-oost"}}"#,
];
const ANNA: &str =
    r#"{"practitioner":{"id":"anna","organisation":"kz-oost","role":"kraamverzorgende"}}"#;
const PATIENT: &str = r#"{"patient":{"id":"client-1"}}"#;
const EVENTS: [&str; 3] = [
    r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"client-1","organisation":"kz-oost"}"#,
    r#"{"at":"2026-01-10T09:00:00Z","type":"dossier_consent_given","patient":"client-1","holder":"vp-noord"}"#,
    r#"{"at":"2026-01-11T08:00:00Z","type":"access_requested","practitioner":"anna","patient":"client-1"}"#,
];
const VIEW_BASIS: &str = r#"{"principal":{"practitioner":"anna"},"action":"view","patient":"client-1","at":"2026-02-01T00:00:00Z","mfa":true,"holder":"vp-noord","category":"basis"}"#;
const VIEW_LAB: &str = r#"{"principal":{"practitioner":"anna"},"action":"view","patient":"client-1","at":"2026-02-01T00:00:00Z","mfa":true,"holder":"vp-noord","category":"labuitslagen"}"#;
const DASHBOARD: &str = r#"{"principal":{"practitioner":"anna"},"patient":"client-1","at":"2026-02-01T00:00:00Z","mfa":true}"#;

/// A sentinel that out-parameters hold until the library writes them
fn sentinel<T>() -> *mut T {
    ptr::dangling_mut()
}

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Reads a static or borrowed string the library returned
fn read(s: *const c_char) -> String {
    assert!(!s.is_null());
    // SAFETY: a NUL-terminated string from the library, valid during this call
    let text = unsafe { CStr::from_ptr(s) };
    text.to_str().unwrap().to_owned()
}

/// An error's status and message, freeing it; `None` for NULL
fn take_error(error: *mut zpdp_error) -> Option<(zpdp_status, String)> {
    if error.is_null() {
        return None;
    }
    // SAFETY: a live error from the library
    let status = unsafe { zpdp_error_status(error) };
    // SAFETY: a live error from the library; the message is copied before the free
    let message = read(unsafe { zpdp_error_message(error) });
    // SAFETY: a live error, freed once
    unsafe { zpdp_error_free(error) };
    Some((status, message))
}

/// Takes an owned string from the library and frees it
fn take_string(s: *mut c_char) -> String {
    assert!(!s.is_null());
    // SAFETY: an owned string from the library
    let text = unsafe { CStr::from_ptr(s) }.to_str().unwrap().to_owned();
    // SAFETY: an owned string, freed once
    unsafe { zpdp_string_free(s) };
    text
}

fn new_engine() -> *mut zpdp_engine {
    let mut engine = ptr::null_mut();
    // SAFETY: valid out-pointers
    let status = unsafe { zpdp_engine_new_shipped(&raw mut engine, ptr::null_mut()) };
    assert_eq!(status, zpdp_status::Ok);
    assert!(!engine.is_null());
    engine
}

fn free_engine(engine: *mut zpdp_engine) {
    // SAFETY: an engine from `new_engine`, freed once, no other user
    unsafe { zpdp_engine_free(engine) };
}

fn register(engine: *mut zpdp_engine, json: &str) -> Result<(), (zpdp_status, String)> {
    let json = c(json);
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and a valid error slot
    let status = unsafe { zpdp_engine_register(engine, json.as_ptr(), &raw mut error) };
    match take_error(error) {
        None if status == zpdp_status::Ok => Ok(()),
        Some((s, message)) if s == status => Err((status, message)),
        other => panic!("status {status:?} with error {other:?}"),
    }
}

fn apply(engine: *mut zpdp_engine, json: &str) -> Result<u64, (zpdp_status, String)> {
    let json = c(json);
    let mut seq = u64::MAX;
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and valid out-pointers
    let status = unsafe { zpdp_engine_apply(engine, json.as_ptr(), &raw mut seq, &raw mut error) };
    match take_error(error) {
        None if status == zpdp_status::Ok => Ok(seq),
        Some((s, message)) if s == status => {
            assert_eq!(seq, u64::MAX, "seq_out written on failure");
            Err((status, message))
        }
        other => panic!("status {status:?} with error {other:?}"),
    }
}

fn apply_entry(engine: *mut zpdp_engine, json: &str) -> Result<u64, (zpdp_status, String)> {
    let json = c(json);
    let mut position = u64::MAX;
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and valid out-pointers
    let status = unsafe {
        zpdp_engine_apply_entry(engine, json.as_ptr(), &raw mut position, &raw mut error)
    };
    match take_error(error) {
        None if status == zpdp_status::Ok => Ok(position),
        Some((s, message)) if s == status => {
            assert_eq!(position, u64::MAX, "position_out written on failure");
            Err((status, message))
        }
        other => panic!("status {status:?} with error {other:?}"),
    }
}

fn state_digest(engine: *const zpdp_engine) -> String {
    let mut out: *mut c_char = sentinel();
    let mut error = ptr::null_mut();
    // SAFETY: a live engine and valid out-pointers
    let status = unsafe { zpdp_engine_state_digest(engine, &raw mut out, &raw mut error) };
    assert_eq!(status, zpdp_status::Ok);
    assert!(error.is_null());
    take_string(out)
}

/// What `*decision_out` holds until the library writes it: neither deny (0)
/// nor allow (1)
const NO_DECISION: u32 = 0xDEAD_BEEF;

/// Calls decide asking for both outputs; checks that they agree and that
/// neither is written on failure
fn decide(
    engine: *const zpdp_engine,
    json: &str,
) -> Result<serde_json::Value, (zpdp_status, String)> {
    let json = c(json);
    let mut decision = NO_DECISION;
    let mut out: *mut c_char = sentinel();
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and valid out-pointers (`zpdp_decision`
    // is a `u32`, so a `u32` is a valid place for it)
    let status = unsafe {
        zpdp_engine_decide(
            engine,
            json.as_ptr(),
            (&raw mut decision).cast::<zpdp_decision>(),
            &raw mut out,
            &raw mut error,
        )
    };
    match take_error(error) {
        None if status == zpdp_status::Ok => {
            let response: serde_json::Value = serde_json::from_str(&take_string(out)).unwrap();
            let want = if response["decision"] == "allow" {
                zpdp_decision::Allow
            } else {
                zpdp_decision::Deny
            };
            assert_eq!(decision, want as u32, "typed decision and JSON disagree");
            Ok(response)
        }
        Some((s, message)) if s == status => {
            assert_eq!(out, sentinel(), "response_json_out written on failure");
            assert_eq!(decision, NO_DECISION, "decision_out written on failure");
            Err((status, message))
        }
        other => panic!("status {status:?} with error {other:?}"),
    }
}

/// Calls decide for the typed decision only (`response_json_out` NULL)
fn decide_typed(engine: *const zpdp_engine, json: &str) -> Result<u32, zpdp_status> {
    let json = c(json);
    let mut decision = NO_DECISION;
    // SAFETY: a live engine, a C string, a valid `zpdp_decision` place, NULL outs
    let status = unsafe {
        zpdp_engine_decide(
            engine,
            json.as_ptr(),
            (&raw mut decision).cast::<zpdp_decision>(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status == zpdp_status::Ok {
        Ok(decision)
    } else {
        assert_eq!(decision, NO_DECISION, "decision_out written on failure");
        Err(status)
    }
}

/// Calls dashboard; checks the out-parameter is written only on success
fn dashboard(
    engine: *const zpdp_engine,
    json: &str,
) -> Result<serde_json::Value, (zpdp_status, String)> {
    let json = c(json);
    let mut out: *mut c_char = sentinel();
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and valid out-pointers
    let status =
        unsafe { zpdp_engine_dashboard(engine, json.as_ptr(), &raw mut out, &raw mut error) };
    match take_error(error) {
        None if status == zpdp_status::Ok => Ok(serde_json::from_str(&take_string(out)).unwrap()),
        Some((s, message)) if s == status => {
            assert_eq!(out, sentinel(), "out-parameter written on failure");
            Err((status, message))
        }
        other => panic!("status {status:?} with error {other:?}"),
    }
}

/// Reloads from `dir`; the status and the error's message
fn reload(engine: *mut zpdp_engine, dir: &Path) -> Result<(), (zpdp_status, String)> {
    let dir = c(dir.to_str().unwrap());
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and a valid error slot
    let status = unsafe { zpdp_engine_reload_from_dir(engine, dir.as_ptr(), &raw mut error) };
    match take_error(error) {
        None if status == zpdp_status::Ok => Ok(()),
        Some((s, message)) if s == status => Err((status, message)),
        other => panic!("status {status:?} with error {other:?}"),
    }
}

/// The shipped policy folder
fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// A copy of the shipped policy folder in a fresh temporary folder, removed on drop
struct PolicyCopy(PathBuf);

impl PolicyCopy {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("zpdp-ffi-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(shipped_dir()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
            }
        }
        Self(dir)
    }

    /// Replaces `from` (which must occur exactly once) by `to` in one file
    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.0.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.matches(from).count(), 1, "`{from}` in {file}");
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }

    /// The policies with labuitslagen added to the kraamverzorgende's matrix row
    fn lab_for_kraamzorg(name: &str) -> Self {
        let copy = Self::new(name);
        copy.edit(
            "role-matrix.cedar",
            r#"Category::"kind", Category::"medicatie"]"#,
            r#"Category::"kind", Category::"medicatie", Category::"labuitslagen"]"#,
        );
        copy
    }
}

impl Drop for PolicyCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn world() -> *mut zpdp_engine {
    let engine = new_engine();
    for json in ORGS.iter().chain([&ANNA, &PATIENT]) {
        register(engine, json).unwrap();
    }
    // Four entities took positions 1-4: the events take 5 onwards
    for (i, json) in (5..).zip(EVENTS) {
        assert_eq!(apply(engine, json), Ok(i));
    }
    engine
}

#[test]
fn happy_path() {
    let engine = world();
    let allow = decide(engine, VIEW_BASIS).unwrap();
    assert_eq!(allow["decision"], "allow");
    assert_eq!(allow["seq"], 7);
    let deny = decide(engine, VIEW_LAB).unwrap();
    assert_eq!(deny["decision"], "deny");
    assert_eq!(deny["reasons"], serde_json::json!(["role_not_permitted"]));
    let answer = dashboard(engine, DASHBOARD).unwrap();
    let holders = answer["holders"].as_array().unwrap();
    let vp = holders.iter().find(|h| h["holder"] == "vp-noord").unwrap();
    assert_eq!(
        vp["visible"],
        serde_json::json!([
            "basis",
            "zwangerschap",
            "bevalling",
            "kraambed",
            "kind",
            "medicatie"
        ])
    );
    free_engine(engine);
}

#[test]
fn engine_from_the_policy_folder() {
    let dir = c(shipped_dir().to_str().unwrap());
    let mut engine = ptr::null_mut();
    // SAFETY: a C string and valid out-pointers
    let status =
        unsafe { zpdp_engine_new_from_dir(dir.as_ptr(), &raw mut engine, ptr::null_mut()) };
    assert_eq!(status, zpdp_status::Ok);
    free_engine(engine);

    let dir = c("/nonexistent/zorg-pdp-policies");
    let mut engine: *mut zpdp_engine = sentinel();
    let mut error = ptr::null_mut();
    // SAFETY: a C string and valid out-pointers
    let status = unsafe { zpdp_engine_new_from_dir(dir.as_ptr(), &raw mut engine, &raw mut error) };
    assert_eq!(status, zpdp_status::PolicyLoadError);
    assert_eq!(engine, sentinel());
    let (s, message) = take_error(error).unwrap();
    assert_eq!(s, zpdp_status::PolicyLoadError);
    assert!(!message.is_empty());
}

#[test]
#[expect(clippy::too_many_lines, reason = "one check per exported function")]
fn null_arguments_are_refused_and_nothing_is_written() {
    let engine = world();
    let json = c(VIEW_BASIS);
    let null = ptr::null_mut();
    let mut out: *mut c_char = sentinel();
    let mut handle: *mut zpdp_engine = sentinel();
    let mut seq = u64::MAX;
    let mut decision = NO_DECISION;
    let dir = c(shipped_dir().to_str().unwrap());
    let mut error = ptr::null_mut();
    let st = zpdp_status::NullParameter;
    // SAFETY: each pointer is NULL or valid (so for every call below)
    let s = unsafe { zpdp_engine_new_shipped(ptr::null_mut(), &raw mut error) };
    assert_eq!(s, st);
    assert_eq!(
        take_error(error).unwrap().1,
        "argument `engine_out` is NULL"
    );
    error = ptr::null_mut();
    // SAFETY: as above
    let s = unsafe { zpdp_engine_new_from_dir(ptr::null(), &raw mut handle, null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_new_from_dir(json.as_ptr(), ptr::null_mut(), null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_register(ptr::null_mut(), json.as_ptr(), &raw mut error) };
    assert_eq!(s, st);
    assert_eq!(take_error(error).unwrap().1, "argument `engine` is NULL");
    error = ptr::null_mut();
    // SAFETY: as above
    let s = unsafe { zpdp_engine_register(engine, ptr::null(), null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_apply(ptr::null_mut(), json.as_ptr(), &raw mut seq, null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_apply(engine, ptr::null(), &raw mut seq, null) };
    assert_eq!(s, st);
    let decision_out = (&raw mut decision).cast::<zpdp_decision>();
    // SAFETY: as above
    let s =
        unsafe { zpdp_engine_decide(ptr::null(), json.as_ptr(), decision_out, &raw mut out, null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_decide(engine, ptr::null(), decision_out, &raw mut out, null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe {
        zpdp_engine_decide(
            engine,
            json.as_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
            &raw mut error,
        )
    };
    assert_eq!(s, st);
    assert_eq!(
        take_error(error).unwrap().1,
        "arguments `decision_out` and `response_json_out` are both NULL: nothing to answer"
    );
    error = ptr::null_mut();
    // SAFETY: as above
    let s = unsafe { zpdp_engine_reload_from_dir(ptr::null_mut(), dir.as_ptr(), &raw mut error) };
    assert_eq!(s, st);
    assert_eq!(take_error(error).unwrap().1, "argument `engine` is NULL");
    error = ptr::null_mut();
    // SAFETY: as above
    let s = unsafe { zpdp_engine_reload_from_dir(engine, ptr::null(), &raw mut error) };
    assert_eq!(s, st);
    assert_eq!(take_error(error).unwrap().1, "argument `dir` is NULL");
    error = ptr::null_mut();
    // SAFETY: as above
    let s = unsafe { zpdp_engine_dashboard(ptr::null(), json.as_ptr(), &raw mut out, null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_dashboard(engine, ptr::null(), &raw mut out, null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_dashboard(engine, json.as_ptr(), ptr::null_mut(), null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe {
        zpdp_engine_set_audit_callback(ptr::null_mut(), None, ptr::null_mut(), &raw mut error)
    };
    assert_eq!(s, st);
    assert_eq!(take_error(error).unwrap().1, "argument `engine` is NULL");
    error = ptr::null_mut();
    // SAFETY: as above
    let s = unsafe { zpdp_engine_set_audit_callback(ptr::null_mut(), None, ptr::null_mut(), null) };
    assert_eq!(s, st);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_audit_failures(ptr::null(), &raw mut seq, &raw mut error) };
    assert_eq!(s, st);
    assert_eq!(take_error(error).unwrap().1, "argument `engine` is NULL");
    error = ptr::null_mut();
    // SAFETY: as above
    let s = unsafe { zpdp_engine_audit_failures(engine, ptr::null_mut(), &raw mut error) };
    assert_eq!(s, st);
    assert_eq!(take_error(error).unwrap().1, "argument `count_out` is NULL");
    // SAFETY: as above
    let s = unsafe { zpdp_engine_audit_failures(engine, ptr::null_mut(), null) };
    assert_eq!(s, st);
    assert_eq!(out, sentinel());
    assert_eq!(decision, NO_DECISION);
    assert_eq!(handle, sentinel());
    assert_eq!(seq, u64::MAX);
    // NULL where it is allowed: frees, error accessors, an unwanted seq_out
    // SAFETY: NULL is a no-op
    unsafe { zpdp_engine_free(ptr::null_mut()) };
    // SAFETY: NULL is a no-op
    unsafe { zpdp_string_free(ptr::null_mut()) };
    // SAFETY: NULL is a no-op
    unsafe { zpdp_error_free(ptr::null_mut()) };
    // SAFETY: NULL gives a static ""
    assert_eq!(read(unsafe { zpdp_error_message(ptr::null()) }), "");
    // SAFETY: NULL is answered, not dereferenced
    assert_eq!(unsafe { zpdp_error_status(ptr::null()) }, st);
    let event =
        c(r#"{"at":"2026-01-12T00:00:00Z","type":"pgo_account_created","patient":"client-1"}"#);
    // SAFETY: a live engine, a C string, NULL optional outs
    let s = unsafe { zpdp_engine_apply(engine, event.as_ptr(), ptr::null_mut(), null) };
    assert_eq!(s, zpdp_status::Ok);
    // Either output of decide alone
    assert_eq!(
        decide_typed(engine, VIEW_BASIS),
        Ok(zpdp_decision::Allow as u32)
    );
    assert_eq!(
        decide_typed(engine, VIEW_LAB),
        Ok(zpdp_decision::Deny as u32)
    );
    let mut out: *mut c_char = ptr::null_mut();
    // SAFETY: a live engine, a C string, a valid out-pointer, NULL optional outs
    let s =
        unsafe { zpdp_engine_decide(engine, json.as_ptr(), ptr::null_mut(), &raw mut out, null) };
    assert_eq!(s, zpdp_status::Ok);
    assert!(take_string(out).contains(r#""decision":"allow""#));
    free_engine(engine);
}

#[test]
fn bad_input_is_refused_with_a_message() {
    let engine = world();
    let e = decide(engine, "{not json").unwrap_err();
    assert_eq!(e.0, zpdp_status::ParseError);
    let e = decide(
        engine,
        &VIEW_BASIS.replace("\"mfa\":true", "\"mfa\":true,\"colour\":1"),
    )
    .unwrap_err();
    assert_eq!(e.0, zpdp_status::ParseError);
    assert!(e.1.contains("unknown field `colour`"), "{}", e.1);
    let e = dashboard(
        engine,
        &DASHBOARD.replace("\"mfa\":true", "\"mfa\":true,\"mfa\":false"),
    )
    .unwrap_err();
    assert!(e.1.contains("duplicate field `mfa`"), "{}", e.1);
    let e = apply(
        engine,
        r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started"}"#,
    )
    .unwrap_err();
    assert_eq!(e.0, zpdp_status::ParseError);
    assert!(e.1.contains("field `patient` is missing"), "{}", e.1);
    let e = register(engine, r#"{"robot":{"id":"r2"}}"#).unwrap_err();
    assert_eq!(e.0, zpdp_status::ParseError);
    let e = register(engine, r#"{"patient":{"id":"a b"}}"#).unwrap_err();
    assert_eq!(e.0, zpdp_status::ParseError);
    let big = format!(r#"{{"patient":{{"id":"{}"}}}}"#, "x".repeat(70_000));
    let e = register(engine, &big).unwrap_err();
    assert_eq!(e.0, zpdp_status::InputTooLarge);

    // Not UTF-8
    let bad = CString::new(b"{\"patient\":{\"id\":\"\xff\"}}".to_vec()).unwrap();
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and a valid error slot
    let s = unsafe { zpdp_engine_register(engine, bad.as_ptr(), &raw mut error) };
    assert_eq!(s, zpdp_status::InvalidUtf8);
    let (_, message) = take_error(error).unwrap();
    assert!(message.contains("byte 18"), "{message}");
    free_engine(engine);
}

#[test]
fn unknown_ids() {
    let engine = world();
    let e = register(
        engine,
        r#"{"practitioner":{"id":"bob","organisation":"nowhere","role":"huisarts"}}"#,
    )
    .unwrap_err();
    assert_eq!(e.0, zpdp_status::UnknownEntity);
    assert!(e.1.contains("`nowhere`"), "{}", e.1);
    let e = register(
        engine,
        r#"{"practitioner":{"id":"bob","organisation":"kz-oost","role":"astronaut"}}"#,
    )
    .unwrap_err();
    assert_eq!(e.0, zpdp_status::UnknownEntity);
    let e = apply(
        engine,
        r#"{"at":"2026-01-10T09:00:00Z","type":"treatment_started","patient":"nobody","organisation":"kz-oost"}"#,
    )
    .unwrap_err();
    assert_eq!(e.0, zpdp_status::EventRejected);
    let unknown = decide(engine, &VIEW_BASIS.replace("client-1", "nobody")).unwrap();
    assert_eq!(unknown["decision"], "deny");
    assert_eq!(unknown["reasons"], serde_json::json!(["unknown_entity"]));
    let e = dashboard(engine, &DASHBOARD.replace("client-1", "nobody")).unwrap_err();
    assert_eq!(e.0, zpdp_status::UnknownEntity);
    assert!(e.1.contains("field `patient`"), "{}", e.1);
    free_engine(engine);
}

#[test]
fn errors_without_an_error_object_still_return_the_status() {
    let engine = world();
    let json = c("[]");
    let mut out: *mut c_char = sentinel();
    let mut decision = NO_DECISION;
    // SAFETY: a live engine, a C string, valid out-pointers, no error slot
    let s = unsafe {
        zpdp_engine_decide(
            engine,
            json.as_ptr(),
            (&raw mut decision).cast::<zpdp_decision>(),
            &raw mut out,
            ptr::null_mut(),
        )
    };
    assert_eq!(s, zpdp_status::ParseError);
    assert_eq!(out, sentinel());
    assert_eq!(decision, NO_DECISION);
    assert_eq!(decide_typed(engine, "[]"), Err(zpdp_status::ParseError));
    free_engine(engine);
}

#[test]
fn a_panic_fails_closed_and_poisons_the_engine() {
    let engine = world();
    let other = world();
    test_hooks::panic_next_call();
    let e = decide(engine, VIEW_BASIS).unwrap_err();
    assert_eq!(e.0, zpdp_status::Panic);
    assert!(e.1.contains("poisoned"), "{}", e.1);
    // Every later call on it reports the poison, and still writes nothing
    let e = decide(engine, VIEW_BASIS).unwrap_err();
    assert_eq!(e.0, zpdp_status::Poisoned);
    assert_eq!(
        dashboard(engine, DASHBOARD).unwrap_err().0,
        zpdp_status::Poisoned
    );
    assert_eq!(
        register(engine, PATIENT).unwrap_err().0,
        zpdp_status::Poisoned
    );
    assert_eq!(
        apply(engine, EVENTS[0]).unwrap_err().0,
        zpdp_status::Poisoned
    );
    assert_eq!(decide_typed(engine, VIEW_BASIS), Err(zpdp_status::Poisoned));
    let mut error = ptr::null_mut();
    // SAFETY: a live engine and a valid error slot
    let s =
        unsafe { zpdp_engine_set_audit_callback(engine, None, ptr::null_mut(), &raw mut error) };
    assert_eq!(s, zpdp_status::Poisoned);
    assert!(take_error(error).unwrap().1.contains("poisoned"));
    let mut count = u64::MAX;
    let mut error = ptr::null_mut();
    // SAFETY: a live engine and valid out-pointers
    let s = unsafe { zpdp_engine_audit_failures(engine, &raw mut count, &raw mut error) };
    assert_eq!(s, zpdp_status::Poisoned);
    assert_eq!(count, u64::MAX);
    assert_eq!(take_error(error).unwrap().0, zpdp_status::Poisoned);
    assert_eq!(
        reload(engine, &shipped_dir()).unwrap_err().0,
        zpdp_status::Poisoned
    );
    // Another engine is not affected
    assert_eq!(decide(other, VIEW_BASIS).unwrap()["decision"], "allow");
    // A panic while applying: no seq, the engine poisoned
    test_hooks::panic_next_call();
    assert_eq!(apply(other, EVENTS[0]).unwrap_err().0, zpdp_status::Panic);
    assert_eq!(
        decide(other, VIEW_BASIS).unwrap_err().0,
        zpdp_status::Poisoned
    );
    free_engine(engine);
    free_engine(other);
}

/// Collects audit records; `userdata` points to it
extern "C" fn collect(userdata: *mut c_void, record_json: *const c_char) {
    // SAFETY: the test passes a `Mutex<Vec<String>>` that outlives the engine
    let records = unsafe { &*userdata.cast::<Mutex<Vec<String>>>() };
    // SAFETY: the library passes a NUL-terminated string valid during the call
    let json = unsafe { CStr::from_ptr(record_json) };
    records
        .lock()
        .unwrap()
        .push(json.to_str().unwrap().to_owned());
}

#[test]
fn audit_records_reach_the_callback_hash_chained() {
    let engine = world();
    let records = Mutex::new(Vec::<String>::new());
    let userdata = (&raw const records).cast_mut().cast::<c_void>();
    // SAFETY: a live engine; `collect` is thread-safe and `records` outlives the engine
    let s =
        unsafe { zpdp_engine_set_audit_callback(engine, Some(collect), userdata, ptr::null_mut()) };
    assert_eq!(s, zpdp_status::Ok);
    decide(engine, VIEW_BASIS).unwrap();
    decide(engine, VIEW_LAB).unwrap();
    dashboard(engine, DASHBOARD).unwrap();
    let records: Vec<zorg_pdp::AuditRecord> = records
        .lock()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    assert!(records.len() >= 3, "{records:?}");
    let mut prev = zorg_pdp::audit::GENESIS_HASH.to_owned();
    for (seq, r) in (1..).zip(&records) {
        assert_eq!(r.seq, seq);
        assert_eq!(r.prev_hash, prev);
        assert_eq!(zorg_pdp::audit::record_hash(r).unwrap(), r.hash);
        prev.clone_from(&r.hash);
    }
    assert_eq!(records[0].decision, zorg_pdp::Decision::Allow);
    assert_eq!(records[1].decision, zorg_pdp::Decision::Deny);
    let mut failures = u64::MAX;
    let mut error = ptr::null_mut();
    // SAFETY: a live engine and valid out-pointers
    let s = unsafe { zpdp_engine_audit_failures(engine, &raw mut failures, &raw mut error) };
    assert_eq!(s, zpdp_status::Ok);
    assert_eq!(failures, 0);
    assert!(error.is_null(), "error_out written on success");
    // SAFETY: a live engine; NULL stops auditing
    let s =
        unsafe { zpdp_engine_set_audit_callback(engine, None, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(s, zpdp_status::Ok);
    free_engine(engine);
}

/// An engine pointer shared with test threads
#[derive(Clone, Copy)]
struct Shared(*const zpdp_engine);
// SAFETY: `zpdp_engine` is `Sync` (an `Engine` and an atomic), and the test
// joins every thread before freeing it
unsafe impl Send for Shared {}

#[test]
fn decisions_from_many_threads_on_one_engine() {
    let engine = world();
    let shared = Shared(engine);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(move || {
                let shared = shared;
                for i in 0..50 {
                    let (json, want) = if i % 2 == 0 {
                        (VIEW_BASIS, "allow")
                    } else {
                        (VIEW_LAB, "deny")
                    };
                    assert_eq!(decide(shared.0, json).unwrap()["decision"], want);
                }
            });
        }
    });
    free_engine(engine);
}

#[test]
fn reload_from_a_folder_changes_the_policies_and_keeps_the_facts() {
    let engine = world();
    let wider = PolicyCopy::lab_for_kraamzorg("wider");
    assert_eq!(decide(engine, VIEW_LAB).unwrap()["decision"], "deny");
    reload(engine, &wider.0).unwrap();
    // The registry survived: same entities, same events, same seq
    let lab = decide(engine, VIEW_LAB).unwrap();
    assert_eq!(lab["decision"], "allow", "{lab}");
    assert_eq!(lab["seq"], 7);
    assert_eq!(decide(engine, VIEW_BASIS).unwrap()["decision"], "allow");
    assert_eq!(
        apply(
            engine,
            r#"{"at":"2026-01-12T00:00:00Z","type":"pgo_account_created","patient":"client-1"}"#
        ),
        Ok(8)
    );
    // And back to the shipped policies
    reload(engine, &shipped_dir()).unwrap();
    assert_eq!(decide(engine, VIEW_LAB).unwrap()["decision"], "deny");
    free_engine(engine);
}

#[test]
fn a_broken_folder_leaves_the_old_policies_in_force() {
    let engine = world();
    let wider = PolicyCopy::lab_for_kraamzorg("in-force");
    reload(engine, &wider.0).unwrap();
    let before = decide(engine, VIEW_LAB).unwrap();
    assert_eq!(before["decision"], "allow");

    // A syntax error in one file
    let broken = PolicyCopy::new("broken");
    broken.edit("role-matrix.cedar", "forbid (", "forbid ((");
    let (status, message) = reload(engine, &broken.0).unwrap_err();
    assert_eq!(status, zpdp_status::PolicyLoadError);
    assert!(message.contains("role-matrix.cedar"), "{message}");
    // A folder that does not exist
    let (status, message) = reload(engine, Path::new("/nonexistent/zorg-pdp")).unwrap_err();
    assert_eq!(status, zpdp_status::PolicyLoadError);
    assert!(!message.is_empty());
    // A policy that reads an attribute the schema does not declare (strict validation)
    let invalid = PolicyCopy::new("invalid");
    invalid.edit(
        "role-matrix.cedar",
        "when { context.source != Source::\"pgo\" }",
        "when { context.colour != Source::\"pgo\" }",
    );
    assert_eq!(
        reload(engine, &invalid.0).unwrap_err().0,
        zpdp_status::PolicyLoadError
    );
    // The wider policies still decide, exactly as before
    assert_eq!(decide(engine, VIEW_LAB).unwrap(), before);
    // Without an error object: the same status, nothing else
    let dir = c(broken.0.to_str().unwrap());
    // SAFETY: a live engine, a C string, no error slot
    let s = unsafe { zpdp_engine_reload_from_dir(engine, dir.as_ptr(), ptr::null_mut()) };
    assert_eq!(s, zpdp_status::PolicyLoadError);
    assert_eq!(decide(engine, VIEW_LAB).unwrap(), before);
    free_engine(engine);
}

#[test]
fn the_audit_chain_goes_on_across_a_reload() {
    let engine = world();
    let records = Mutex::new(Vec::<String>::new());
    let userdata = (&raw const records).cast_mut().cast::<c_void>();
    // SAFETY: a live engine; `collect` is thread-safe and `records` outlives the engine
    let s =
        unsafe { zpdp_engine_set_audit_callback(engine, Some(collect), userdata, ptr::null_mut()) };
    assert_eq!(s, zpdp_status::Ok);
    let wider = PolicyCopy::lab_for_kraamzorg("audit");
    decide(engine, VIEW_LAB).unwrap();
    reload(engine, &wider.0).unwrap();
    decide(engine, VIEW_LAB).unwrap();
    let records: Vec<zorg_pdp::AuditRecord> = records
        .lock()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(r).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!((records[0].seq, records[1].seq), (1, 2));
    assert_eq!(records[1].prev_hash, records[0].hash);
    assert_eq!(records[0].decision, zorg_pdp::Decision::Deny);
    assert_eq!(records[1].decision, zorg_pdp::Decision::Allow);
    assert_ne!(records[0].policy_version, records[1].policy_version);
    free_engine(engine);
}

#[test]
fn decisions_while_the_policies_are_reloaded() {
    let engine = world();
    let wider = PolicyCopy::lab_for_kraamzorg("threads");
    let shared = Shared(engine);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let deciders: Vec<_> = (0..3)
            .map(|_| {
                let done = &done;
                scope.spawn(move || {
                    let shared = shared;
                    let mut seen = [0u32; 2];
                    while !done.load(std::sync::atomic::Ordering::Acquire) {
                        // Either policy set allows basis; lab depends on which is in force
                        assert_eq!(decide(shared.0, VIEW_BASIS).unwrap()["decision"], "allow");
                        let lab = decide_typed(shared.0, VIEW_LAB).unwrap();
                        seen[usize::try_from(lab).unwrap()] += 1;
                    }
                    seen
                })
            })
            .collect();
        for i in 0..6 {
            let dir = if i % 2 == 0 {
                wider.0.clone()
            } else {
                shipped_dir()
            };
            reload(shared.0.cast_mut(), &dir).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Release);
        for decider in deciders {
            let [deny, allow] = decider.join().unwrap();
            assert!(deny + allow > 0);
        }
    });
    // The last reload was the shipped set
    assert_eq!(decide(engine, VIEW_LAB).unwrap()["decision"], "deny");
    free_engine(engine);
}

#[test]
fn the_json_limit_is_the_cores() {
    // A request padded to exactly the limit is decided; one byte more is refused
    let engine = world();
    let padded = |len: usize| {
        let mut json = VIEW_BASIS.to_owned();
        json.insert_str(1, &" ".repeat(len - VIEW_BASIS.len()));
        json
    };
    let at_limit = padded(strings::MAX_JSON_LEN);
    assert_eq!(at_limit.len(), 64 * 1024);
    assert_eq!(decide(engine, &at_limit).unwrap()["decision"], "allow");
    let over = decide(engine, &padded(strings::MAX_JSON_LEN + 1)).unwrap_err();
    assert_eq!(over.0, zpdp_status::InputTooLarge);
    free_engine(engine);
}

#[test]
fn register_errors_name_the_field_and_line() {
    // Through `EntityRecord::from_json`: the message names what, field and line
    let engine = world();
    let e = register(engine, "{\"patient\":\n{\"id\":\"a b\"}}").unwrap_err();
    assert_eq!(e.0, zpdp_status::ParseError);
    assert!(e.1.starts_with("entity: field `id`: "), "{}", e.1);
    assert!(e.1.contains("(line 2, column"), "{}", e.1);
    let e = register(
        engine,
        r#"{"practitioner":{"id":"bob","organisation":"kz-oost"}}"#,
    )
    .unwrap_err();
    assert!(e.1.contains("missing field `role`"), "{}", e.1);
    free_engine(engine);
}

#[test]
fn version_matches_cargo_and_the_header() {
    // SAFETY: always safe; a static string
    assert_eq!(read(unsafe { zpdp_version() }), env!("CARGO_PKG_VERSION"));
    assert_eq!(
        ZPDP_VERSION_MAJOR.to_string(),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        ZPDP_VERSION_MINOR.to_string(),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        ZPDP_VERSION_PATCH.to_string(),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    let header = include_str!("../include/zorg_pdp.h");
    for (name, value) in [
        ("MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        let line = format!("#define ZPDP_VERSION_{name} {value}\n");
        assert!(header.contains(&line), "the header lacks `{}`", line.trim());
    }
}

#[test]
fn status_names() {
    // SAFETY: always safe; static strings
    let name = |n| read(unsafe { zpdp_status_name(n) });
    assert_eq!(name(0), "ZPDP_STATUS_OK");
    assert_eq!(name(7), "ZPDP_STATUS_PANIC");
    assert_eq!(name(8), "ZPDP_STATUS_POISONED");
    assert_eq!(name(999), "ZPDP_STATUS_UNKNOWN");
}

/// One consent question through `f`: the answer, or the status and message
fn consent(
    f: unsafe extern "C" fn(
        *const zpdp_engine,
        *const c_char,
        *mut *mut c_char,
        *mut *mut zpdp_error,
    ) -> zpdp_status,
    engine: *const zpdp_engine,
    json: &str,
) -> Result<serde_json::Value, (zpdp_status, String)> {
    let json = c(json);
    let mut out: *mut c_char = sentinel();
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and valid out-pointers
    let status = unsafe { f(engine, json.as_ptr(), &raw mut out, &raw mut error) };
    match take_error(error) {
        None if status == zpdp_status::Ok => Ok(serde_json::from_str(&take_string(out)).unwrap()),
        Some((s, message)) if s == status => {
            assert_eq!(out, sentinel(), "out-parameter written on failure");
            Err((status, message))
        }
        other => panic!("status {status:?} with error {other:?}"),
    }
}

#[test]
fn the_consent_questions_answer_in_json() {
    let engine = world();
    let at = r#""at":"2026-02-01T00:00:00Z""#;
    let check = consent(
        zpdp_engine_consent_check,
        engine,
        &format!(
            r#"{{"patient":"client-1","holder":"vp-noord","requester":"kz-oost","data_categories":["GGC002","GGC013"],{at}}}"#
        ),
    )
    .unwrap();
    assert_eq!(check["answers"][0]["answer"], "permit");
    assert_eq!(check["answers"][1]["statements"][0], "org:vp-noord/*/*");
    let locate = consent(
        zpdp_engine_consent_locate,
        engine,
        &format!(r#"{{"patient":"client-1","requester":"kz-oost",{at}}}"#),
    )
    .unwrap();
    assert_eq!(locate["holders"][0]["holder"], "vp-noord");
    assert_eq!(locate["holders"].as_array().unwrap().len(), 1);
    let overview = consent(
        zpdp_engine_consent_overview,
        engine,
        &format!(r#"{{"principal":{{"patient":"client-1"}},"patient":"client-1",{at}}}"#),
    )
    .unwrap();
    assert_eq!(overview["statements"][0]["id"], "org:vp-noord/*/*");
    // Errors: an unknown holder, two requesters, a malformed question
    let (status, message) = consent(
        zpdp_engine_consent_check,
        engine,
        &format!(
            r#"{{"patient":"client-1","holder":"nergens","requester":"kz-oost","data_categories":["GGC002"],{at}}}"#
        ),
    )
    .unwrap_err();
    assert_eq!(status, zpdp_status::UnknownEntity);
    assert!(message.contains("`holder`"), "{message}");
    let (status, _) = consent(
        zpdp_engine_consent_check,
        engine,
        &format!(
            r#"{{"patient":"client-1","holder":"vp-noord","requester":"kz-oost","requester_category":"RPZAC004","data_categories":["GGC002"],{at}}}"#
        ),
    )
    .unwrap_err();
    assert_eq!(status, zpdp_status::ParseError);
    let (status, _) = consent(zpdp_engine_consent_locate, engine, "{").unwrap_err();
    assert_eq!(status, zpdp_status::ParseError);
    // NULL engine: refused, nothing written
    let (status, _) = consent(zpdp_engine_consent_overview, ptr::null(), "{}").unwrap_err();
    assert_eq!(status, zpdp_status::NullParameter);
    free_engine(engine);
}

#[test]
fn apply_entry_takes_the_logs_position_and_skips_a_repeat() {
    let engine = world();
    let before = state_digest(engine);
    assert!(
        before.starts_with("sha256:") && before.len() == 71,
        "{before}"
    );
    let entry = r#"{"position":20,"event":{"at":"2026-01-12T00:00:00Z","type":"pgo_account_created","patient":"client-1"}}"#;
    assert_eq!(apply_entry(engine, entry), Ok(20));
    let after = state_digest(engine);
    assert_ne!(after, before);
    // A repeat (R48): success, 0 written, nothing changed
    assert_eq!(apply_entry(engine, entry), Ok(0));
    assert_eq!(state_digest(engine), after);
    assert_eq!(decide(engine, VIEW_BASIS).unwrap()["seq"], 20);
    // Refused: malformed, position 0, an unknown entity; the engine unchanged
    let (status, message) =
        apply_entry(engine, r#"{"position":0,"entity":{"patient":{"id":"c"}}}"#).unwrap_err();
    assert_eq!(status, zpdp_status::ParseError);
    assert!(message.contains("position"), "{message}");
    let (status, message) = apply_entry(
        engine,
        r#"{"position":21,"entity":{"practitioner":{"id":"p","organisation":"nope","role":"verloskundige"}}}"#,
    )
    .unwrap_err();
    assert_eq!(status, zpdp_status::UnknownEntity);
    assert!(message.contains("position 21"), "{message}");
    let (status, _) = apply_entry(
        engine,
        r#"{"position":21,"event":{"at":"2026-01-12T00:00:00Z","type":"pgo_account_created","patient":"nobody"}}"#,
    )
    .unwrap_err();
    assert_eq!(status, zpdp_status::EventRejected);
    assert_eq!(state_digest(engine), after);
    // NULL where it is allowed: an unwanted position_out
    let entry = c(r#"{"position":22,"entity":{"patient":{"id":"client-2"}}}"#);
    // SAFETY: a live engine, a C string, NULL outputs allowed
    let s = unsafe {
        zpdp_engine_apply_entry(engine, entry.as_ptr(), ptr::null_mut(), ptr::null_mut())
    };
    assert_eq!(s, zpdp_status::Ok);
    // NULL where it is not
    // SAFETY: NULL arguments are checked before use
    let s = unsafe {
        zpdp_engine_apply_entry(
            ptr::null_mut(),
            entry.as_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(s, zpdp_status::NullParameter);
    // SAFETY: as above
    let s =
        unsafe { zpdp_engine_apply_entry(engine, ptr::null(), ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(s, zpdp_status::NullParameter);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_state_digest(engine, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(s, zpdp_status::NullParameter);
    // SAFETY: as above
    let s = unsafe { zpdp_engine_state_digest(ptr::null(), ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(s, zpdp_status::NullParameter);
    free_engine(engine);
}

#[test]
fn two_engines_fed_the_same_entries_give_the_same_digest() {
    let (a, b) = (world(), world());
    assert_eq!(state_digest(a), state_digest(b));
    let entry = r#"{"position":30,"entity":{"patient":{"id":"client-2"}}}"#;
    assert_eq!(apply_entry(a, entry), Ok(30));
    assert_ne!(state_digest(a), state_digest(b));
    assert_eq!(apply_entry(b, entry), Ok(30));
    assert_eq!(apply_entry(b, entry), Ok(0));
    assert_eq!(state_digest(a), state_digest(b));
    free_engine(a);
    free_engine(b);
}

#[test]
fn a_stale_token_is_a_deny_for_decide_and_its_own_status_for_consent_questions() {
    let engine = world();
    let stale = VIEW_BASIS.replacen('{', r#"{"min_seq":8,"#, 1);
    let r = decide(engine, &stale).unwrap();
    assert_eq!(r["decision"], "deny");
    assert_eq!(r["reasons"], serde_json::json!(["stale_facts"]));
    let fresh = VIEW_BASIS.replacen('{', r#"{"min_seq":7,"#, 1);
    assert_eq!(decide(engine, &fresh).unwrap()["decision"], "allow");
    let query = c(
        r#"{"patient":"client-1","holder":"vp-noord","requester":"kz-oost","data_categories":["GGC013"],"at":"2026-02-01T00:00:00Z","min_seq":99}"#,
    );
    let mut out: *mut c_char = sentinel();
    let mut error = ptr::null_mut();
    // SAFETY: a live engine, a C string and valid out-pointers
    let status =
        unsafe { zpdp_engine_consent_check(engine, query.as_ptr(), &raw mut out, &raw mut error) };
    assert_eq!(status, zpdp_status::StaleFacts);
    assert_eq!(out, sentinel(), "answer_json_out written on failure");
    let (s, message) = take_error(error).unwrap();
    assert_eq!(s, zpdp_status::StaleFacts);
    assert!(
        message.contains("min_seq") && message.contains("99"),
        "{message}"
    );
    free_engine(engine);
}
