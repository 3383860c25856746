/* NULL for every pointer argument: ZPDP_STATUS_NULL_PARAMETER and nothing written, except where
 * NULL is allowed (error_out, seq_out, callback, userdata, every _free, and one of decide's
 * decision_out and response_json_out). */
#include "common.h"

int main(void) {
    zpdp_engine *engine = make_world();
    zpdp_engine *handle = (zpdp_engine *)&engine; /* a sentinel: must stay untouched */
    zpdp_engine *const handle_sentinel = handle;
    char sentinel_text[] = "untouched";
    char *out = sentinel_text;
    uint64_t seq = 12345;
    zpdp_decision decision = (zpdp_decision)77; /* neither deny nor allow: must stay untouched */
    zpdp_error *error = NULL;
    const zpdp_status NP = ZPDP_STATUS_NULL_PARAMETER;

    CHECK(engine != NULL);
    if (engine == NULL) {
        return test_finish("test_null");
    }

    CHECK_STATUS(zpdp_engine_new_shipped(NULL, NULL), NP);
    CHECK_STATUS(zpdp_engine_new_shipped(NULL, &error), NP);
    CHECK(zpdp_error_status(error) == NP);
    CHECK(strcmp(zpdp_error_message(error), "argument `engine_out` is NULL") == 0);
    zpdp_error_free(error);
    error = NULL;

    CHECK_STATUS(zpdp_engine_new_from_dir(NULL, &handle, NULL), NP);
    CHECK_STATUS(zpdp_engine_new_from_dir("policies", NULL, NULL), NP);

    CHECK_STATUS(zpdp_engine_register(NULL, WORLD_ENTITIES[0], NULL), NP);
    CHECK_STATUS(zpdp_engine_register(engine, NULL, &error), NP);
    CHECK(contains(zpdp_error_message(error), "`entity_json`"));
    zpdp_error_free(error);
    error = NULL;

    CHECK_STATUS(zpdp_engine_apply(NULL, WORLD_EVENTS[0], &seq, NULL), NP);
    CHECK_STATUS(zpdp_engine_apply(engine, NULL, &seq, NULL), NP);

    CHECK_STATUS(zpdp_engine_decide(NULL, VIEW_BASIS, &decision, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_decide(engine, NULL, &decision, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_decide(NULL, VIEW_BASIS, &decision, NULL, &error), NP);
    CHECK(strcmp(zpdp_error_message(error), "argument `engine` is NULL") == 0);
    zpdp_error_free(error);
    error = NULL;
    /* decision_out and response_json_out may not both be NULL */
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_BASIS, NULL, NULL, &error), NP);
    CHECK(contains(zpdp_error_message(error), "`decision_out` and `response_json_out`"));
    zpdp_error_free(error);
    error = NULL;

    CHECK_STATUS(zpdp_engine_reload_from_dir(NULL, "policies", NULL), NP);
    CHECK_STATUS(zpdp_engine_reload_from_dir(engine, NULL, &error), NP);
    CHECK(strcmp(zpdp_error_message(error), "argument `dir` is NULL") == 0);
    zpdp_error_free(error);
    error = NULL;

    CHECK_STATUS(zpdp_engine_dashboard(NULL, DASHBOARD_QUERY, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_dashboard(engine, NULL, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_dashboard(engine, DASHBOARD_QUERY, NULL, NULL), NP);

    /* Every fallible function has an error_out, these two included */
    CHECK_STATUS(zpdp_engine_set_audit_callback(NULL, NULL, NULL, NULL), NP);
    CHECK_STATUS(zpdp_engine_set_audit_callback(NULL, NULL, NULL, &error), NP);
    CHECK(strcmp(zpdp_error_message(error), "argument `engine` is NULL") == 0);
    zpdp_error_free(error);
    error = NULL;
    CHECK_STATUS(zpdp_engine_audit_failures(NULL, &seq, NULL), NP);
    CHECK_STATUS(zpdp_engine_audit_failures(engine, NULL, &error), NP);
    CHECK(strcmp(zpdp_error_message(error), "argument `count_out` is NULL") == 0);
    zpdp_error_free(error);
    error = NULL;

    /* Nothing was written on failure */
    CHECK(handle == handle_sentinel);
    CHECK(out == sentinel_text);
    CHECK(seq == 12345);
    CHECK(decision == (zpdp_decision)77);
    CHECK(strcmp(sentinel_text, "untouched") == 0);

    /* Where NULL is allowed */
    CHECK(strcmp(zpdp_error_message(NULL), "") == 0);
    CHECK(zpdp_error_status(NULL) == NP);
    zpdp_error_free(NULL);
    zpdp_string_free(NULL);
    zpdp_engine_free(NULL);
    CHECK_STATUS(zpdp_engine_apply(engine,
                                   "{\"at\":\"2026-01-12T00:00:00Z\",\"type\":"
                                   "\"pgo_account_created\",\"patient\":\"client-1\"}",
                                   NULL, NULL),
                 ZPDP_STATUS_OK);
    CHECK_STATUS(zpdp_engine_set_audit_callback(engine, NULL, NULL, NULL), ZPDP_STATUS_OK);
    /* Either of decide's outputs alone */
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_BASIS, &decision, NULL, NULL), ZPDP_STATUS_OK);
    CHECK(decision == ZPDP_DECISION_ALLOW);
    out = NULL;
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_LAB, NULL, &out, NULL), ZPDP_STATUS_OK);
    CHECK(contains(out, "\"decision\":\"deny\""));
    zpdp_string_free(out);

    zpdp_engine_free(engine);
    return test_finish("test_null");
}
