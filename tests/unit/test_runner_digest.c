/* Unit tests for the digest runner's MMDF reading (the mailbox the
 * to-digest handler writes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runner/runner_digest.h"

#include <glib.h>
#include <string.h>

#define S "\001\001\001\001\n"

static void test_split_mmdf(void **state)
{
    (void)state;
    static const struct {
        const char *mbox;
        const char *want[3];
    } cases[] = {
        {"", {NULL}},
        {S S, {NULL}},
        {S "Subject: a\n\nbody\n" S, {"Subject: a\n\nbody\n", NULL}},
        {S "Subject: a\n\none\n" S S "Subject: b\n\ntwo\n" S,
         {"Subject: a\n\none\n", "Subject: b\n\ntwo\n", NULL}},
        /* a mailbox cut short (no end mark) still gives its last post */
        {S "Subject: a\n\none\n" S S "Subject: b\n\ntw",
         {"Subject: a\n\none\n", "Subject: b\n\ntw", NULL}},
        /* \001 inside a post is not a separator */
        {S "Subject: \001x\n\n\001\001\001\001 no newline\n" S,
         {"Subject: \001x\n\n\001\001\001\001 no newline\n", NULL}},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GPtrArray *got = runner_digest_split_mmdf(cases[i].mbox, strlen(cases[i].mbox));
        guint n = 0;
        while (cases[i].want[n])
            n++;
        if (got->len != n)
            fail_msg("case %zu: %u posts, want %u", i, got->len, n);
        for (guint j = 0; j < n; j++)
            assert_string_equal(got->pdata[j], cases[i].want[j]);
        g_ptr_array_unref(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_mmdf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
