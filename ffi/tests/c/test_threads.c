/* Decisions from 4 threads at once on one engine, while the main thread applies events and
 * reloads the policies (from the folder given as the first argument): every answer is the
 * expected one, typed and JSON agree, and every decision is audited once. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"

#define THREADS 4
#define ROUNDS 100

static atomic_int audited;

static void on_audit(void *userdata, const char *record_json) {
    (void)userdata;
    if (record_json != NULL) {
        atomic_fetch_add(&audited, 1);
    }
}

struct job {
    const zpdp_engine *engine;
    int wrong;
};

static void *decide_loop(void *arg) {
    struct job *job = arg;
    int i;
    for (i = 0; i < ROUNDS; i++) {
        char *out = NULL;
        int allow = i % 2 == 0;
        zpdp_decision decision = ZPDP_DECISION_DENY;
        zpdp_status status = zpdp_engine_decide(job->engine, allow ? VIEW_BASIS : VIEW_LAB,
                                                &decision, &out, NULL);
        if (status != ZPDP_STATUS_OK ||
            !contains(out, allow ? "\"decision\":\"allow\"" : "\"decision\":\"deny\"") ||
            decision != (allow ? ZPDP_DECISION_ALLOW : ZPDP_DECISION_DENY)) {
            job->wrong++;
        }
        zpdp_string_free(out);
    }
    return NULL;
}

int main(int argc, char **argv) {
    zpdp_engine *engine = make_world();
    pthread_t threads[THREADS];
    struct job jobs[THREADS];
    int i;
    int started = 0;

    CHECK(engine != NULL);
    if (engine == NULL) {
        return test_finish("test_threads");
    }
    atomic_init(&audited, 0);
    CHECK_STATUS(zpdp_engine_set_audit_callback(engine, on_audit, NULL, NULL), ZPDP_STATUS_OK);

    for (i = 0; i < THREADS; i++) {
        jobs[i].engine = engine;
        jobs[i].wrong = 0;
        if (pthread_create(&threads[i], NULL, decide_loop, &jobs[i]) == 0) {
            started++;
        }
    }
    CHECK(started == THREADS);

    /* Meanwhile: events after the decisions' time (so the answers cannot change) */
    for (i = 0; i < 20; i++) {
        char event[256];
        snprintf(event, sizeof event,
                 "{\"at\":\"2026-03-%02dT00:00:00Z\",\"type\":\"%s\",\"patient\":\"client-1\"}",
                 i + 1, i % 2 == 0 ? "pgo_account_created" : "pgo_account_deleted");
        CHECK_STATUS(zpdp_engine_apply(engine, event, NULL, NULL), ZPDP_STATUS_OK);
        /* and the same rules reloaded now and then: no decision fails or changes */
        if (argc > 1 && i % 5 == 0) {
            CHECK_STATUS(zpdp_engine_reload_from_dir(engine, argv[1], NULL), ZPDP_STATUS_OK);
        }
    }

    for (i = 0; i < started; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].wrong == 0);
    }
    CHECK(atomic_load(&audited) == THREADS * ROUNDS);

    zpdp_engine_free(engine);
    return test_finish("test_threads");
}
