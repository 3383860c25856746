/*
 * ehr.c: how a legacy EHR embeds zorg-pdp.
 *
 * A small message loop, as an EHR's interface engine would run it: the master data (the
 * organisations, staff and patients it knows) is registered, then facts from its inbox are
 * applied as events, then a practitioner opens a patient and the EHR asks for her dashboard and
 * for one decision. The EHR shows data only on a typed ZPDP_DECISION_ALLOW with
 * ZPDP_STATUS_OK, so it fails closed without parsing JSON; the JSON response is only logged,
 * for its reasons. Audit records go to a callback (here: stderr; an EHR writes them to its
 * NEN 7513 log).
 *
 * Build and run (see docs/c-abi.md):
 *
 *   cargo build --release -p zorg-pdp-ffi
 *   cc -std=c11 -Wall -Wextra -Wpedantic -Iffi/include ffi/examples/ehr.c \
 *      target/release/libzorg_pdp_ffi.a -lpthread -ldl -lm -o ehr
 *   ./ehr              # the shipped policies
 *   ./ehr policies     # the policies in a folder
 */
#include <stdio.h>
#include <stdlib.h>

#include "zorg_pdp.h"

/* One message from the EHR's inbox */
struct message {
    enum { ENTITY, EVENT, DECIDE, DASHBOARD } kind;
    const char *json;
};

static const struct message INBOX[] = {
    /* Master data */
    {ENTITY, "{\"organisation\":{\"id\":\"vp-noord\",\"name\":\"Verloskundigen Noord\"}}"},
    {ENTITY, "{\"organisation\":{\"id\":\"kz-oost\",\"name\":\"Kraamzorg Oost\"}}"},
    {ENTITY, "{\"practitioner\":{\"id\":\"anna\",\"organisation\":\"kz-oost\","
             "\"role\":\"kraamverzorgende\"}}"},
    {ENTITY, "{\"practitioner\":{\"id\":\"vera\",\"organisation\":\"vp-noord\","
             "\"role\":\"verloskundige\"}}"},
    {ENTITY, "{\"patient\":{\"id\":\"client-1\"}}"},
    /* Facts, as they happen */
    {EVENT, "{\"at\":\"2026-01-05T10:00:00Z\",\"type\":\"treatment_started\","
            "\"patient\":\"client-1\",\"organisation\":\"vp-noord\"}"},
    {EVENT, "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"treatment_started\","
            "\"patient\":\"client-1\",\"organisation\":\"kz-oost\"}"},
    {EVENT, "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"dossier_consent_given\","
            "\"patient\":\"client-1\",\"holder\":\"vp-noord\",\"recorded_by\":\"vera\"}"},
    /* A malformed message: the EHR logs it and goes on */
    {EVENT, "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"dossier_consent_given\"}"},
    {EVENT, "{\"at\":\"2026-01-11T08:00:00Z\",\"type\":\"access_requested\","
            "\"practitioner\":\"anna\",\"patient\":\"client-1\"}"},
    /* Anna opens client-1: her dashboard, then one category */
    {DASHBOARD, "{\"principal\":{\"practitioner\":\"anna\"},\"patient\":\"client-1\","
                "\"at\":\"2026-02-01T00:00:00Z\",\"mfa\":true}"},
    {DECIDE, "{\"principal\":{\"practitioner\":\"anna\"},\"action\":\"view\","
             "\"patient\":\"client-1\",\"at\":\"2026-02-01T00:00:00Z\",\"mfa\":true,"
             "\"holder\":\"vp-noord\",\"category\":\"labuitslagen\"}"},
};

static void audit_to_stderr(void *userdata, const char *record_json) {
    unsigned long *count = userdata;
    (*count)++;
    fprintf(stderr, "audit: %s\n", record_json);
}

/* Prints a failed call; the EHR goes on with the next message */
static void report(const char *what, zpdp_status status, zpdp_error *error) {
    fprintf(stderr, "%s failed (%s): %s\n", what, zpdp_status_name(status),
            zpdp_error_message(error));
    zpdp_error_free(error);
}

int main(int argc, char **argv) {
    zpdp_engine *engine = NULL;
    zpdp_error *error = NULL;
    zpdp_status status;
    unsigned long audited = 0;
    size_t i;
    int failed = 0;

    printf("zorg-pdp %s\n", zpdp_version());
    status = argc > 1 ? zpdp_engine_new_from_dir(argv[1], &engine, &error)
                      : zpdp_engine_new_shipped(&engine, &error);
    if (status != ZPDP_STATUS_OK) {
        report("loading the policies", status, error);
        return 1;
    }
    status = zpdp_engine_set_audit_callback(engine, audit_to_stderr, &audited, &error);
    if (status != ZPDP_STATUS_OK) {
        /* An EHR that must not answer unaudited stops here */
        report("setting the audit callback", status, error);
        zpdp_engine_free(engine);
        return 1;
    }

    for (i = 0; i < sizeof INBOX / sizeof INBOX[0]; i++) {
        const struct message *m = &INBOX[i];
        char *json = NULL;
        uint64_t seq = 0;
        zpdp_decision decision = ZPDP_DECISION_DENY; /* fail closed: deny until told allow */
        error = NULL;
        switch (m->kind) {
        case ENTITY:
            status = zpdp_engine_register(engine, m->json, &error);
            if (status != ZPDP_STATUS_OK) {
                report("register", status, error);
                failed++;
            }
            break;
        case EVENT:
            status = zpdp_engine_apply(engine, m->json, &seq, &error);
            if (status == ZPDP_STATUS_OK) {
                printf("event applied at position %llu\n", (unsigned long long)seq);
            } else {
                report("event", status, error);
                failed++;
            }
            break;
        case DASHBOARD:
            status = zpdp_engine_dashboard(engine, m->json, &json, &error);
            if (status == ZPDP_STATUS_OK) {
                printf("dashboard: %s\n", json);
                zpdp_string_free(json);
            } else {
                report("dashboard", status, error);
                failed++;
            }
            break;
        case DECIDE:
            status = zpdp_engine_decide(engine, m->json, &decision, &json, &error);
            if (status == ZPDP_STATUS_OK && decision == ZPDP_DECISION_ALLOW) {
                printf("decision: allow, show the data\n");
            } else if (status == ZPDP_STATUS_OK) {
                printf("decision: deny, show nothing\n");
            } else {
                /* No decision: fail closed, show nothing */
                report("decide", status, error);
                failed++;
            }
            if (json != NULL) {
                printf("response: %s\n", json); /* the reasons, for the practitioner's screen */
                zpdp_string_free(json);
            }
            break;
        }
    }

    zpdp_engine_free(engine);
    printf("%lu audit records, %d messages refused\n", audited, failed);
    /* Exactly one message in the inbox is malformed on purpose */
    return failed == 1 ? 0 : 1;
}
