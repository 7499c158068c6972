/*
 * unit_check - what the unit tests of error-returning APIs share: the
 * error text of the last call in `err`, CHECK (the call must not fail,
 * else the test fails with its message) and EXPECT_FAIL (it must fail with
 * that code and a message containing text).
 *
 * Include after <cmocka.h> and <glib.h>; one translation unit per test
 * binary, so `err` is that binary's.
 */
#ifndef CRIER_TESTS_UNIT_CHECK_H
#define CRIER_TESTS_UNIT_CHECK_H

#include <string.h>

static char *err;

#define CHECK(call)                                                                                \
    do {                                                                                           \
        g_clear_pointer(&err, g_free);                                                             \
        int rc_ = (call);                                                                          \
        if (rc_ < 0)                                                                               \
            fail_msg("%s -> %d: %s", #call, rc_, err ? err : "(no message)");                      \
    } while (0)

#define EXPECT_FAIL(call, code, text)                                                              \
    do {                                                                                           \
        g_clear_pointer(&err, g_free);                                                             \
        int rc_ = (call);                                                                          \
        assert_int_equal(rc_, code);                                                               \
        assert_non_null(err);                                                                      \
        if (strstr(err, text) == NULL)                                                             \
            fail_msg("message \"%s\" lacks \"%s\"", err, text);                                    \
    } while (0)

#endif
