/* The error path: malformed, oversized and non-UTF-8 input, unknown ids, rejected events and
 * policy folders, each with an error object and without one. Out-parameters stay untouched. */
#include "common.h"

/* Calls decide; checks the status, that the out-parameters are untouched, and that the message
 * contains `needle`. Then the same call without an error object gives the same status. */
static void decide_fails(zpdp_engine *engine, const char *json, zpdp_status want,
                         const char *needle) {
    char sentinel[] = "x";
    char *out = sentinel;
    zpdp_decision decision = (zpdp_decision)77;
    zpdp_error *error = NULL;
    CHECK_STATUS(zpdp_engine_decide(engine, json, &decision, &out, &error), want);
    CHECK(out == sentinel);
    CHECK(decision == (zpdp_decision)77);
    CHECK(error != NULL);
    CHECK(zpdp_error_status(error) == want);
    CHECK(contains(zpdp_error_message(error), needle));
    if (!contains(zpdp_error_message(error), needle)) {
        fprintf(stderr, "  message: %s\n  wanted: %s\n", zpdp_error_message(error), needle);
    }
    zpdp_error_free(error);
    CHECK_STATUS(zpdp_engine_decide(engine, json, &decision, &out, NULL), want);
    CHECK(out == sentinel);
    CHECK(decision == (zpdp_decision)77);
    /* The fail-closed idiom: initialised to deny, still deny after the failure */
    decision = ZPDP_DECISION_DENY;
    CHECK_STATUS(zpdp_engine_decide(engine, json, &decision, NULL, NULL), want);
    CHECK(decision == ZPDP_DECISION_DENY);
}

static void register_fails(zpdp_engine *engine, const char *json, zpdp_status want,
                           const char *needle) {
    zpdp_error *error = NULL;
    CHECK_STATUS(zpdp_engine_register(engine, json, &error), want);
    CHECK(zpdp_error_status(error) == want);
    CHECK(contains(zpdp_error_message(error), needle));
    if (!contains(zpdp_error_message(error), needle)) {
        fprintf(stderr, "  message: %s\n  wanted: %s\n", zpdp_error_message(error), needle);
    }
    zpdp_error_free(error);
    CHECK_STATUS(zpdp_engine_register(engine, json, NULL), want);
}

static void apply_fails(zpdp_engine *engine, const char *json, zpdp_status want,
                        const char *needle) {
    zpdp_error *error = NULL;
    uint64_t seq = 777;
    CHECK_STATUS(zpdp_engine_apply(engine, json, &seq, &error), want);
    CHECK(seq == 777);
    CHECK(zpdp_error_status(error) == want);
    CHECK(contains(zpdp_error_message(error), needle));
    if (!contains(zpdp_error_message(error), needle)) {
        fprintf(stderr, "  message: %s\n  wanted: %s\n", zpdp_error_message(error), needle);
    }
    zpdp_error_free(error);
    CHECK_STATUS(zpdp_engine_apply(engine, json, &seq, NULL), want);
    CHECK(seq == 777);
}

int main(void) {
    zpdp_engine *engine = make_world();
    zpdp_engine *other = NULL;
    zpdp_error *error = NULL;
    char *out = NULL;
    zpdp_decision decision = ZPDP_DECISION_DENY;
    char *big;
    size_t n = 70 * 1024;

    CHECK(engine != NULL);
    if (engine == NULL) {
        return test_finish("test_errors");
    }

    /* Malformed JSON */
    decide_fails(engine, "{not json", ZPDP_STATUS_PARSE_ERROR, "request");
    decide_fails(engine, "", ZPDP_STATUS_PARSE_ERROR, "request");
    decide_fails(engine, "[]", ZPDP_STATUS_PARSE_ERROR, "request");
    /* Unknown field, duplicate key, malformed id and time, a field the action lacks */
    decide_fails(engine,
                 "{\"principal\":{\"practitioner\":\"anna\"},\"action\":\"view\","
                 "\"patient\":\"client-1\",\"at\":\"2026-02-01T00:00:00Z\",\"holder\":\"vp-noord\","
                 "\"category\":\"basis\",\"colour\":\"red\"}",
                 ZPDP_STATUS_PARSE_ERROR, "unknown field `colour`");
    decide_fails(engine,
                 "{\"principal\":{\"practitioner\":\"anna\"},\"action\":\"view\","
                 "\"patient\":\"client-1\",\"patient\":\"client-2\",\"at\":\"2026-02-01T00:00:00Z\","
                 "\"holder\":\"vp-noord\",\"category\":\"basis\"}",
                 ZPDP_STATUS_PARSE_ERROR, "duplicate field `patient`");
    decide_fails(engine,
                 "{\"principal\":{\"practitioner\":\"an na\"},\"action\":\"share\","
                 "\"patient\":\"client-1\",\"at\":\"2026-02-01T00:00:00Z\"}",
                 ZPDP_STATUS_PARSE_ERROR, "field `practitioner`");
    decide_fails(engine,
                 "{\"principal\":{\"practitioner\":\"anna\"},\"action\":\"share\","
                 "\"patient\":\"client-1\",\"at\":\"yesterday\"}",
                 ZPDP_STATUS_PARSE_ERROR, "field `at`");
    decide_fails(engine,
                 "{\"principal\":{\"practitioner\":\"anna\"},\"action\":\"share\","
                 "\"patient\":\"client-1\",\"at\":\"2026-02-01T00:00:00Z\",\"module\":\"DM\"}",
                 ZPDP_STATUS_PARSE_ERROR, "`module` is not used");

    /* Not UTF-8 */
    decide_fails(engine, "{\"principal\":\"\xff\"}", ZPDP_STATUS_INVALID_UTF8, "UTF-8");

    /* Over 64 KiB */
    big = malloc(n + 1);
    CHECK(big != NULL);
    if (big != NULL) {
        memset(big, ' ', n);
        big[0] = '{';
        big[n - 1] = '}';
        big[n] = '\0';
        decide_fails(engine, big, ZPDP_STATUS_INPUT_TOO_LARGE, "limit");
        register_fails(engine, big, ZPDP_STATUS_INPUT_TOO_LARGE, "limit");
        apply_fails(engine, big, ZPDP_STATUS_INPUT_TOO_LARGE, "limit");
        free(big);
    }

    /* Entities: malformed, unknown kind, unknown organisation or role */
    register_fails(engine, "{\"patient\":{\"id\":\"a/b\"}}", ZPDP_STATUS_PARSE_ERROR, "invalid id");
    register_fails(engine, "{\"robot\":{\"id\":\"r2\"}}", ZPDP_STATUS_PARSE_ERROR, "robot");
    register_fails(engine, "{\"patient\":{\"id\":\"c9\",\"ssn\":\"123\"}}", ZPDP_STATUS_PARSE_ERROR,
                   "unknown field `ssn`");
    register_fails(engine,
                   "{\"practitioner\":{\"id\":\"bob\",\"organisation\":\"nowhere\","
                   "\"role\":\"huisarts\"}}",
                   ZPDP_STATUS_UNKNOWN_ENTITY, "`nowhere`");
    register_fails(engine,
                   "{\"practitioner\":{\"id\":\"bob\",\"organisation\":\"kz-oost\","
                   "\"role\":\"astronaut\"}}",
                   ZPDP_STATUS_UNKNOWN_ENTITY, "`astronaut`");

    /* Events: fields that do not fit the type; an unknown patient */
    apply_fails(engine, "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"treatment_started\"}",
                ZPDP_STATUS_PARSE_ERROR, "field `patient` is missing");
    apply_fails(engine, "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"lunch\"}",
                ZPDP_STATUS_PARSE_ERROR, "lunch");
    apply_fails(engine,
                "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"treatment_started\","
                "\"patient\":\"nobody\",\"organisation\":\"kz-oost\"}",
                ZPDP_STATUS_EVENT_REJECTED, "nobody");

    /* An unknown id in a request is a deny, not an error */
    decision = (zpdp_decision)77;
    CHECK_STATUS(zpdp_engine_decide(engine,
                                    "{\"principal\":{\"practitioner\":\"nobody\"},\"action\":"
                                    "\"view\",\"patient\":\"client-1\",\"at\":"
                                    "\"2026-02-01T00:00:00Z\",\"mfa\":true,\"holder\":\"vp-noord\","
                                    "\"category\":\"basis\"}",
                                    &decision, &out, NULL),
                 ZPDP_STATUS_OK);
    CHECK(decision == ZPDP_DECISION_DENY);
    CHECK(contains(out, "\"decision\":\"deny\""));
    CHECK(contains(out, "\"reasons\":[\"unknown_entity\"]"));
    zpdp_string_free(out);

    /* An unknown patient on a dashboard is an error naming the field */
    out = NULL;
    CHECK_STATUS(zpdp_engine_dashboard(engine,
                                       "{\"principal\":{\"practitioner\":\"anna\"},\"patient\":"
                                       "\"nobody\",\"at\":\"2026-02-01T00:00:00Z\"}",
                                       &out, &error),
                 ZPDP_STATUS_UNKNOWN_ENTITY);
    CHECK(out == NULL);
    CHECK(contains(zpdp_error_message(error), "field `patient`"));
    zpdp_error_free(error);
    error = NULL;

    /* A policy folder that does not exist */
    CHECK_STATUS(zpdp_engine_new_from_dir("/nonexistent/zorg-pdp", &other, &error),
                 ZPDP_STATUS_POLICY_LOAD_ERROR);
    CHECK(other == NULL);
    CHECK(zpdp_error_status(error) == ZPDP_STATUS_POLICY_LOAD_ERROR);
    CHECK(strlen(zpdp_error_message(error)) > 0);
    zpdp_error_free(error);
    CHECK_STATUS(zpdp_engine_new_from_dir("/nonexistent/zorg-pdp", &other, NULL),
                 ZPDP_STATUS_POLICY_LOAD_ERROR);
    CHECK(other == NULL);

    /* A reload from a folder that does not exist: an error, the old policies stay in force */
    CHECK_STATUS(zpdp_engine_reload_from_dir(engine, "/nonexistent/zorg-pdp", &error),
                 ZPDP_STATUS_POLICY_LOAD_ERROR);
    CHECK(zpdp_error_status(error) == ZPDP_STATUS_POLICY_LOAD_ERROR);
    CHECK(contains(zpdp_error_message(error), "/nonexistent/zorg-pdp"));
    zpdp_error_free(error);
    error = NULL;
    CHECK_STATUS(zpdp_engine_reload_from_dir(engine, "/nonexistent/zorg-pdp", NULL),
                 ZPDP_STATUS_POLICY_LOAD_ERROR);
    decision = ZPDP_DECISION_DENY;
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_BASIS, &decision, NULL, NULL), ZPDP_STATUS_OK);
    CHECK(decision == ZPDP_DECISION_ALLOW);
    /* A path over 4096 bytes */
    big = malloc(5000);
    CHECK(big != NULL);
    if (big != NULL) {
        memset(big, 'a', 4999);
        big[0] = '/';
        big[4999] = '\0';
        CHECK_STATUS(zpdp_engine_reload_from_dir(engine, big, &error), ZPDP_STATUS_INPUT_TOO_LARGE);
        CHECK(contains(zpdp_error_message(error), "`dir`"));
        zpdp_error_free(error);
        error = NULL;
        free(big);
    }

    /* Status names, also for numbers that are no status */
    CHECK(strcmp(zpdp_status_name(ZPDP_STATUS_PANIC), "ZPDP_STATUS_PANIC") == 0);
    CHECK(strcmp(zpdp_status_name(4000000000u), "ZPDP_STATUS_UNKNOWN") == 0);

    /* After all that the engine still answers */
    decision = ZPDP_DECISION_DENY;
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_BASIS, &decision, &out, NULL), ZPDP_STATUS_OK);
    CHECK(decision == ZPDP_DECISION_ALLOW);
    CHECK(contains(out, "\"decision\":\"allow\""));
    zpdp_string_free(out);

    zpdp_engine_free(engine);
    return test_finish("test_errors");
}
