/* Shared helpers for the C tests of zorg_pdp.h: checks, a small world, JSON samples. */
#ifndef ZPDP_TEST_COMMON_H
#define ZPDP_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zorg_pdp.h"

static int test_checks = 0;
static int test_failures = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        test_checks++;                                                               \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            test_failures++;                                                         \
        }                                                                            \
    } while (0)

#define CHECK_STATUS(expr, want)                                                      \
    do {                                                                              \
        zpdp_status got_ = (expr);                                                    \
        test_checks++;                                                                \
        if (got_ != (want)) {                                                         \
            fprintf(stderr, "%s:%d: %s gave %s, expected %s\n", __FILE__, __LINE__,   \
                    #expr, zpdp_status_name(got_), zpdp_status_name(want));           \
            test_failures++;                                                          \
        }                                                                             \
    } while (0)

/* The closing line every test prints; the exit status is 1 on any failure */
static inline int test_finish(const char *name) {
    printf("%s: %d passed, %d failed\n", name, test_checks - test_failures, test_failures);
    return test_failures == 0 ? 0 : 1;
}

/* A tiny world: a midwife practice holding a dossier, a maternity-care organisation with
 * one kraamverzorgende, one patient with a treatment relationship, consent and an access
 * request. */
static const char *const WORLD_ENTITIES[] = {
    "{\"organisation\":{\"id\":\"vp-noord\",\"name\":\"Verloskundigenpraktijk Noord\"}}",
    "{\"organisation\":{\"id\":\"kz-oost\"}}",
    "{\"practitioner\":{\"id\":\"anna\",\"organisation\":\"kz-oost\",\"role\":\"kraamverzorgende\"}}",
    "{\"patient\":{\"id\":\"client-1\"}}",
};

static const char *const WORLD_EVENTS[] = {
    "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"treatment_started\",\"patient\":\"client-1\","
    "\"organisation\":\"kz-oost\"}",
    "{\"at\":\"2026-01-10T09:00:00Z\",\"type\":\"dossier_consent_given\",\"patient\":\"client-1\","
    "\"holder\":\"vp-noord\"}",
    "{\"at\":\"2026-01-11T08:00:00Z\",\"type\":\"access_requested\",\"practitioner\":\"anna\","
    "\"patient\":\"client-1\"}",
};

#define VIEW_BASIS                                                                         \
    "{\"principal\":{\"practitioner\":\"anna\"},\"action\":\"view\",\"patient\":\"client-1\"," \
    "\"at\":\"2026-02-01T00:00:00Z\",\"mfa\":true,\"holder\":\"vp-noord\",\"category\":\"basis\"}"

#define VIEW_LAB                                                                           \
    "{\"principal\":{\"practitioner\":\"anna\"},\"action\":\"view\",\"patient\":\"client-1\"," \
    "\"at\":\"2026-02-01T00:00:00Z\",\"mfa\":true,\"holder\":\"vp-noord\","                 \
    "\"category\":\"labuitslagen\"}"

#define DASHBOARD_QUERY                                                                    \
    "{\"principal\":{\"practitioner\":\"anna\"},\"patient\":\"client-1\","                   \
    "\"at\":\"2026-02-01T00:00:00Z\",\"mfa\":true}"

/* An engine with the shipped policies and the world above; NULL (and a message) on failure */
static inline zpdp_engine *make_world(void) {
    zpdp_engine *engine = NULL;
    zpdp_error *error = NULL;
    size_t i;
    if (zpdp_engine_new_shipped(&engine, &error) != ZPDP_STATUS_OK) {
        fprintf(stderr, "engine: %s\n", zpdp_error_message(error));
        zpdp_error_free(error);
        return NULL;
    }
    for (i = 0; i < sizeof WORLD_ENTITIES / sizeof WORLD_ENTITIES[0]; i++) {
        if (zpdp_engine_register(engine, WORLD_ENTITIES[i], &error) != ZPDP_STATUS_OK) {
            fprintf(stderr, "register: %s\n", zpdp_error_message(error));
            zpdp_error_free(error);
            zpdp_engine_free(engine);
            return NULL;
        }
    }
    for (i = 0; i < sizeof WORLD_EVENTS / sizeof WORLD_EVENTS[0]; i++) {
        if (zpdp_engine_apply(engine, WORLD_EVENTS[i], NULL, &error) != ZPDP_STATUS_OK) {
            fprintf(stderr, "apply: %s\n", zpdp_error_message(error));
            zpdp_error_free(error);
            zpdp_engine_free(engine);
            return NULL;
        }
    }
    return engine;
}

/* Whether `haystack` contains `needle` (NULL never does) */
static inline int contains(const char *haystack, const char *needle) {
    return haystack != NULL && strstr(haystack, needle) != NULL;
}

#endif /* ZPDP_TEST_COMMON_H */
