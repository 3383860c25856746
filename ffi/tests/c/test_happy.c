/* The happy path: version, an engine from the shipped policies and from the policy folder,
 * entities, events, typed and JSON decisions, a dashboard, audit records through the callback,
 * and a reload from the policy folder that keeps the facts and the audit chain. */
#include "common.h"

struct audit_log {
    int count;
    int chained; /* every record's seq is one more than the last */
    char first[4096];
};

static void on_audit(void *userdata, const char *record_json) {
    struct audit_log *log = userdata;
    char want[32];
    log->count++;
    snprintf(want, sizeof want, "\"seq\":%d,", log->count);
    if (!contains(record_json, want)) {
        log->chained = 0;
    }
    if (log->count == 1) {
        snprintf(log->first, sizeof log->first, "%s", record_json);
    }
}

int main(int argc, char **argv) {
    zpdp_engine *engine;
    zpdp_error *error = NULL;
    char *response = NULL;
    char *answer = NULL;
    uint64_t seq = 0;
    uint64_t failures = 99;
    zpdp_decision decision = ZPDP_DECISION_DENY;
    struct audit_log log = {0, 1, {0}};
    char version[32];

    /* The version string and the header's defines agree */
    snprintf(version, sizeof version, "%d.%d.%d", ZPDP_VERSION_MAJOR, ZPDP_VERSION_MINOR,
             ZPDP_VERSION_PATCH);
    CHECK(strcmp(zpdp_version(), version) == 0);
    CHECK(strcmp(zpdp_status_name(ZPDP_STATUS_OK), "ZPDP_STATUS_OK") == 0);

    engine = make_world();
    CHECK(engine != NULL);
    if (engine == NULL) {
        return test_finish("test_happy");
    }
    CHECK_STATUS(zpdp_engine_set_audit_callback(engine, on_audit, &log, &error), ZPDP_STATUS_OK);
    CHECK(error == NULL);

    /* One more event, with its position: four entities and three events came before */
    CHECK_STATUS(zpdp_engine_apply(engine,
                                   "{\"at\":\"2026-01-12T00:00:00Z\",\"type\":"
                                   "\"pgo_account_created\",\"patient\":\"client-1\"}",
                                   &seq, &error),
                 ZPDP_STATUS_OK);
    CHECK(seq == 8);
    CHECK(error == NULL);

    /* Allow, with the permits that applied */
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_BASIS, &decision, &response, &error),
                 ZPDP_STATUS_OK);
    CHECK(decision == ZPDP_DECISION_ALLOW);
    CHECK(error == NULL);
    CHECK(contains(response, "\"decision\":\"allow\""));
    CHECK(contains(response, "\"reasons\":[]"));
    CHECK(contains(response, "\"seq\":8"));
    zpdp_string_free(response);
    response = NULL;

    /* Deny, with the reason */
    decision = (zpdp_decision)77;
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_LAB, &decision, &response, NULL), ZPDP_STATUS_OK);
    CHECK(decision == ZPDP_DECISION_DENY);
    CHECK(contains(response, "\"decision\":\"deny\""));
    CHECK(contains(response, "\"role_not_permitted\""));
    zpdp_string_free(response);

    /* The dashboard: what a kraamverzorgende sees of the midwife's dossier */
    CHECK_STATUS(zpdp_engine_dashboard(engine, DASHBOARD_QUERY, &answer, &error),
                 ZPDP_STATUS_OK);
    CHECK(contains(answer, "{\"holder\":\"vp-noord\",\"visible\":[\"basis\",\"zwangerschap\","
                           "\"bevalling\",\"kraambed\",\"kind\",\"medicatie\"]"));
    zpdp_string_free(answer);

    /* The Mitz closed question: the midwife's own consent answers every data category */
    CHECK_STATUS(zpdp_engine_consent_check(
                     engine,
                     "{\"patient\":\"client-1\",\"holder\":\"vp-noord\",\"requester\":\"kz-oost\","
                     "\"data_categories\":[\"GGC013\"],\"at\":\"2026-02-01T00:00:00Z\"}",
                     &answer, &error),
                 ZPDP_STATUS_OK);
    CHECK(contains(answer, "\"answer\":\"permit\",\"statements\":[\"org:vp-noord/*/*\"]"));
    zpdp_string_free(answer);
    CHECK_STATUS(zpdp_engine_consent_locate(
                     engine,
                     "{\"patient\":\"client-1\",\"requester\":\"nergens\","
                     "\"at\":\"2026-02-01T00:00:00Z\"}",
                     &answer, &error),
                 ZPDP_STATUS_UNKNOWN_ENTITY);
    CHECK(error != NULL && contains(zpdp_error_message(error), "`requester`"));
    zpdp_error_free(error);
    error = NULL;

    /* An entry of the host's log at its own position; a repeat is skipped (0 written) and
     * changes nothing, so the state digest tells */
    {
        const char *entry = "{\"position\":20,\"entity\":{\"patient\":{\"id\":\"client-2\"}}}";
        char *before = NULL;
        char *after = NULL;
        char *again = NULL;
        uint64_t position = 77;
        CHECK_STATUS(zpdp_engine_state_digest(engine, &before, &error), ZPDP_STATUS_OK);
        CHECK(before != NULL && strncmp(before, "sha256:", 7) == 0 && strlen(before) == 71);
        CHECK_STATUS(zpdp_engine_apply_entry(engine, entry, &position, &error), ZPDP_STATUS_OK);
        CHECK(position == 20);
        CHECK_STATUS(zpdp_engine_state_digest(engine, &after, &error), ZPDP_STATUS_OK);
        CHECK_STATUS(zpdp_engine_apply_entry(engine, entry, &position, &error), ZPDP_STATUS_OK);
        CHECK(position == 0);
        CHECK_STATUS(zpdp_engine_state_digest(engine, &again, &error), ZPDP_STATUS_OK);
        CHECK(before != NULL && after != NULL && strcmp(before, after) != 0);
        CHECK(after != NULL && again != NULL && strcmp(after, again) == 0);
        CHECK(error == NULL);
        zpdp_string_free(before);
        zpdp_string_free(after);
        zpdp_string_free(again);
    }

    /* Audit: two decisions and one record per dashboard holder, chained from seq 1 */
    CHECK(log.count >= 3);
    CHECK(log.chained);
    CHECK(contains(log.first, "\"prev_hash\":\"0000000000000000000000000000000000000000000000"
                              "000000000000000000\""));
    CHECK(contains(log.first, "\"decision\":\"allow\""));
    CHECK_STATUS(zpdp_engine_audit_failures(engine, &failures, &error), ZPDP_STATUS_OK);
    CHECK(failures == 0);
    CHECK(error == NULL);

    /* Reload from the folder (the same rules): facts and the audit chain carry on */
    if (argc > 1) {
        int before = log.count;
        CHECK_STATUS(zpdp_engine_reload_from_dir(engine, argv[1], &error), ZPDP_STATUS_OK);
        CHECK(error == NULL);
        decision = ZPDP_DECISION_DENY;
        CHECK_STATUS(zpdp_engine_decide(engine, VIEW_BASIS, &decision, NULL, NULL),
                     ZPDP_STATUS_OK);
        CHECK(decision == ZPDP_DECISION_ALLOW);
        CHECK_STATUS(zpdp_engine_decide(engine, VIEW_LAB, &decision, NULL, NULL), ZPDP_STATUS_OK);
        CHECK(decision == ZPDP_DECISION_DENY);
        CHECK(log.count == before + 2);
        CHECK(log.chained);
    }
    CHECK_STATUS(zpdp_engine_set_audit_callback(engine, NULL, NULL, NULL), ZPDP_STATUS_OK);
    zpdp_engine_free(engine);

    /* The same policies from the folder */
    if (argc > 1) {
        engine = NULL;
        CHECK_STATUS(zpdp_engine_new_from_dir(argv[1], &engine, &error), ZPDP_STATUS_OK);
        CHECK(engine != NULL);
        CHECK(error == NULL);
        zpdp_engine_free(engine);
    }
    return test_finish("test_happy");
}
