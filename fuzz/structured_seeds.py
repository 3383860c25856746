#!/usr/bin/env python3
"""Writes the hand-made seeds of the `structured` fuzz target into
fuzz/regressions/structured/ (run it from anywhere; it overwrites only the
files it names).

The body (`structured` in fuzz/targets.rs) reads its input with `arbitrary`:
  8 picks, one byte each, taken modulo 12: picks[0..4] are the roles of
    practitioners p0..p3 (ROLES below; the organisation is o{role % 3}),
    bit 0 of picks[4..7] grants consent_change, client_management, log_review
    to all four;
  1 byte: the number of events, modulo 41;
  6 bytes per event: kind (EVENTS, modulo 26), patient, b2, b3, b4, hour;
  8 bytes per request until the input ends: principal (bit 7 set: no mfa),
    id, action (ACTIONS, modulo 12), b3, b4, purpose, patient, hour.
Ids are indices: organisation o0 o1 o2 ghost (modulo 4), patient x0 x1 ghost
(modulo 3), practitioner p0..p4 (modulo 5, p4 unknown), category basis echo
medicatie labuitslagen wondzorg (modulo 5), module DM CVRM XX (modulo 3),
purpose treatment emergency referral quality_survey nza_registration research.
"""

from pathlib import Path

ROLES = ["huisarts", "poh", "diabetesverpleegkundige", "dietist", "podotherapeut",
         "verloskundige", "gynaecoloog", "kraamverzorgende", "jgz", "apotheker",
         "medisch_specialist", "administratief"]
EVENTS = ["treatment_started", "treatment_ended", "dossier_consent_given",
          "dossier_consent_withdrawn", "access_requested", "referral_sent",
          "referral_objection_recorded", "referral_objection_withdrawn",
          "unplanned_care_consent_given", "unplanned_care_consent_withdrawn",
          "pgo_account_created", "pgo_account_deleted", "pgo_transfer_consent_given",
          "pgo_transfer_consent_withdrawn", "module_started", "module_storage_consent_given",
          "module_storage_consent_withdrawn", "module_ownership_accepted", "record_added",
          "record_added_too", "record_flagged", "party_consent_given",
          "party_consent_withdrawn", "objection_recorded", "objection_withdrawn",
          "research_consent_given"]
ACTIONS = ["view", "view_record", "request_access", "share", "start_module", "contribute",
           "change_consent", "view_consents", "use_personal_data", "use_for_research",
           "view_own", "view_access_log"]
PRACTITIONER, PATIENT, ORGANISATION = 2, 0, 1
NO_MFA = 0x80


def world(roles, tasks=(0, 0, 0)):
    """The 8 picks: four roles (by name) and three task bits"""
    return bytes([ROLES.index(r) for r in roles] + list(tasks) + [0])


def event(kind, patient=0, b2=0, b3=0, b4=0, hour=0):
    return bytes([EVENTS.index(kind), patient, b2, b3, b4, hour])


def request(principal, who, action, b3=0, b4=0, purpose=0, patient=0, hour=15):
    return bytes([principal, who, ACTIONS.index(action), b3, b4, purpose, patient, hour])


def seed(picks, events, requests):
    return picks + bytes([len(events)]) + b"".join(events) + b"".join(requests)


SEEDS = {
    # Birth care: kraamverzorgende p0 at o1 views the dossier of verloskundige
    # p1's o2 after consent and an access request; a flagged record; no mfa
    "birth-care-viewer": seed(
        world(["kraamverzorgende", "verloskundige", "gynaecoloog", "huisarts"], (1, 1, 1)),
        [
            event("treatment_started", 0, 1, hour=1),
            event("treatment_started", 0, 2, hour=1),
            event("dossier_consent_given", 0, 2, hour=2),
            event("access_requested", 0, b3=0, hour=3),
            event("record_added", 0, 0, 0, 0, hour=3),   # r0: basis at o0
            event("record_added", 0, 2, 1, 0, hour=4),   # r1: medicatie at o2
            event("record_flagged", 0, b3=1, hour=6),
        ],
        [
            request(PRACTITIONER, 0, "view", b3=2, b4=0, hour=5),
            request(PRACTITIONER, 0, "view", b3=2, b4=1, hour=5),
            request(PRACTITIONER, 0, "view", b3=2, b4=0, hour=2),
            request(PRACTITIONER, 0, "view_record", b3=1, hour=5),
            request(PRACTITIONER, 0, "view_record", b3=1, hour=7),
            request(PRACTITIONER, 1, "view_record", b3=1, hour=7),
            request(PRACTITIONER | NO_MFA, 0, "view", b3=2, hour=5),
            request(PRACTITIONER, 0, "request_access", hour=5),
            request(PRACTITIONER, 1, "share", hour=5),
            request(PATIENT, 0, "view_own", b3=1, b4=4, hour=7),
        ],
    ),
    # ZNO care modules: huisarts p0 (o0) starts DM after PGO, transfer consent
    # and ownership; poh p1 (o1) without ownership; administratief p3
    "care-modules": seed(
        world(["huisarts", "poh", "dietist", "administratief"]),
        [
            event("treatment_started", 1, 0, hour=1),
            event("treatment_started", 1, 1, hour=1),
            event("pgo_account_created", 1, hour=1),
            event("pgo_transfer_consent_given", 1, hour=2),
            event("module_ownership_accepted", 1, 0, 0, hour=2),
            event("module_started", 1, 0, 0, hour=3),
            event("module_storage_consent_given", 1, 0, hour=3),
            event("record_added", 1, 0, 0, 1, hour=4),   # r0: module record of DM at o0
            event("record_added", 1, 0, 2, 2, hour=4),   # r2: pgo record
            event("pgo_account_deleted", 1, hour=8),
        ],
        [
            request(PRACTITIONER, 0, "start_module", b3=0, patient=1, hour=5),
            request(PRACTITIONER, 0, "contribute", b3=0, patient=1, hour=5),
            request(PRACTITIONER, 1, "contribute", b3=0, patient=1, hour=5),
            request(PRACTITIONER, 3, "contribute", b3=0, patient=1, hour=5),
            request(PRACTITIONER, 0, "contribute", b3=0, patient=1, hour=9),
            request(PRACTITIONER, 0, "view_record", b3=0, patient=1, hour=9),
            request(PRACTITIONER, 0, "view_record", b3=2, patient=1, hour=5),
            request(PATIENT, 1, "view_own", b3=2, b4=4, patient=1, hour=9),
            request(PRACTITIONER, 2, "start_module", b3=1, patient=1, hour=5),
        ],
    ),
    # Consent withdrawn and given again; the viewer's relationship ends and
    # restarts (a new access request is needed); requests before and after
    "withdrawal-and-relationship-end": seed(
        world(["medisch_specialist", "apotheker", "jgz", "gynaecoloog"]),
        [
            event("treatment_started", 0, 2, hour=1),   # jgz p2's o2, the viewer
            event("treatment_started", 0, 1, hour=1),   # o1, the holder
            event("dossier_consent_given", 0, 1, hour=1),
            event("access_requested", 0, b3=2, hour=2),
            event("dossier_consent_withdrawn", 0, 1, hour=5),
            event("dossier_consent_given", 0, 1, hour=9),
            event("treatment_ended", 0, 2, hour=10),
            event("treatment_started", 0, 2, hour=12),
        ],
        [
            request(PRACTITIONER, 2, "view", b3=1, b4=0, patient=0, hour=h)
            for h in (3, 6, 9, 11, 13)
        ] + [
            request(PRACTITIONER, 2, "view", b3=1, b4=2, patient=0, hour=3),
            request(PRACTITIONER, 2, "request_access", hour=4),
            request(PRACTITIONER, 2, "request_access", hour=11),
        ],
    ),
    # Planned and unplanned care: a referral o0 -> o1 with an objection for
    # one category, an unplanned-care consent at o2
    "referral-and-emergency": seed(
        world(["huisarts", "medisch_specialist", "apotheker", "poh"]),
        [
            event("treatment_started", 0, 0, hour=1),
            event("treatment_started", 0, 1, hour=1),
            event("treatment_started", 0, 2, hour=1),
            event("referral_sent", 0, 0, 1, hour=2),
            event("referral_objection_recorded", 0, 0, 2, 1, hour=3),   # medicatie
            event("referral_objection_recorded", 0, 2, 0, 0, hour=3),   # every category
            event("unplanned_care_consent_given", 0, 2, hour=2),
            event("referral_objection_withdrawn", 0, 0, 2, 1, hour=7),
        ],
        [
            request(PRACTITIONER, 1, "view", b3=0, b4=c, purpose=2, hour=h)
            for c in (0, 2) for h in (4, 8)
        ] + [
            request(PRACTITIONER, 0, "view", b3=2, b4=0, purpose=1, hour=4),
            request(PRACTITIONER, 1, "view", b3=2, b4=2, purpose=1, hour=4),
            request(PRACTITIONER, 0, "view", b3=0, b4=3, purpose=1, hour=4),
        ],
    ),
    # Administration and external parties: administratief p0 (o2) and huisarts
    # p1 (o0) with consent_change and log_review, party consent, NZa
    # objection, research consent, the access log
    "administration-and-research": seed(
        world(["administratief", "huisarts", "poh", "verloskundige"], (1, 0, 1)),
        [
            event("treatment_started", 1, 0, hour=1),
            event("party_consent_given", 1, 0, 1, 3, hour=2),
            event("objection_recorded", 1, b4=4, hour=3),
            event("research_consent_given", 1, hour=3),
            event("party_consent_withdrawn", 1, 0, 1, 3, hour=8),
            event("objection_withdrawn", 1, b4=4, hour=9),
        ],
        [
            request(PRACTITIONER, 0, "change_consent", b3=2, patient=1, hour=5),
            request(PRACTITIONER, 0, "change_consent", b3=1, patient=1, hour=5),
            request(PRACTITIONER, 0, "view_consents", b3=2, patient=1, hour=5),
            request(ORGANISATION, 1, "use_personal_data", b3=0, purpose=3, patient=1, hour=5),
            request(ORGANISATION, 1, "use_personal_data", b3=0, purpose=3, patient=1, hour=9),
            request(ORGANISATION, 1, "use_personal_data", b3=0, purpose=0, patient=1, hour=5),
            request(ORGANISATION, 2, "use_for_research", purpose=4, patient=1, hour=5),
            request(ORGANISATION, 2, "use_for_research", purpose=4, patient=1, hour=10),
            request(ORGANISATION, 2, "use_for_research", b4=1, purpose=5, patient=1, hour=5),
            request(PATIENT, 1, "view_access_log", patient=1, hour=5),
            request(PATIENT, 0, "view_access_log", patient=1, hour=5),
            request(PRACTITIONER, 0, "view_access_log", b3=2, b4=1, patient=1, hour=5),
            request(PRACTITIONER, 1, "view_access_log", b3=0, b4=1, patient=1, hour=5),
            request(PRACTITIONER, 2, "view_access_log", b3=1, b4=1, patient=1, hour=5),
        ],
    ),
    # Unknown ids everywhere: events about the ghost patient and organisation
    # (rejected), requests by the unknown practitioner p4 and for ghosts
    "unknown-entities": seed(
        world(["kraamverzorgende", "kraamverzorgende", "kraamverzorgende", "kraamverzorgende"]),
        [
            event("treatment_started", 2, 0, hour=1),
            event("treatment_started", 0, 3, hour=1),
            event("access_requested", 0, b3=4, hour=1),
            event("record_flagged", 0, b3=3, hour=1),
            event("treatment_started", 0, 1, hour=1),
        ],
        [
            request(PRACTITIONER, 4, "view", b3=1, hour=5),
            request(PRACTITIONER | NO_MFA, 4, "share", hour=5),
            request(PRACTITIONER, 0, "view", b3=3, hour=5),
            request(PRACTITIONER, 0, "view", b3=1, b4=4, hour=5),
            request(PRACTITIONER, 0, "view_record", b3=3, hour=5),
            request(PATIENT, 2, "view_own", patient=2, hour=5),
            request(ORGANISATION, 3, "use_for_research", purpose=4, hour=5),
        ],
    ),
    # Nothing but the world: the input ends after the picks
    "picks-only": world(["huisarts", "poh", "jgz", "apotheker"]),
}


def main():
    out = Path(__file__).resolve().parent / "regressions" / "structured"
    out.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS.items():
        (out / name).write_bytes(data)
        print(f"{out / name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
