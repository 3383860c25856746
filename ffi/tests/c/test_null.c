/* NULL for every pointer argument: ZPDP_STATUS_NULL_PARAMETER and nothing written, except where
 * NULL is allowed (error_out, seq_out, callback, userdata, and every _free). */
#include "common.h"

int main(void) {
    zpdp_engine *engine = make_world();
    zpdp_engine *handle = (zpdp_engine *)&engine; /* a sentinel: must stay untouched */
    zpdp_engine *const handle_sentinel = handle;
    char sentinel_text[] = "untouched";
    char *out = sentinel_text;
    uint64_t seq = 12345;
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

    CHECK_STATUS(zpdp_engine_decide(NULL, VIEW_BASIS, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_decide(engine, NULL, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_decide(engine, VIEW_BASIS, NULL, &error), NP);
    CHECK(contains(zpdp_error_message(error), "`response_json_out`"));
    zpdp_error_free(error);
    error = NULL;

    CHECK_STATUS(zpdp_engine_dashboard(NULL, DASHBOARD_QUERY, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_dashboard(engine, NULL, &out, NULL), NP);
    CHECK_STATUS(zpdp_engine_dashboard(engine, DASHBOARD_QUERY, NULL, NULL), NP);

    CHECK_STATUS(zpdp_engine_set_audit_callback(NULL, NULL, NULL), NP);
    CHECK_STATUS(zpdp_engine_audit_failures(NULL, &seq), NP);
    CHECK_STATUS(zpdp_engine_audit_failures(engine, NULL), NP);

    /* Nothing was written on failure */
    CHECK(handle == handle_sentinel);
    CHECK(out == sentinel_text);
    CHECK(seq == 12345);
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
    CHECK_STATUS(zpdp_engine_set_audit_callback(engine, NULL, NULL), ZPDP_STATUS_OK);

    zpdp_engine_free(engine);
    return test_finish("test_null");
}
