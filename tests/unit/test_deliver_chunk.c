/* Unit tests for Mailman's bulk chunking (reference §4.2, §12 item 26). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deliver/deliver_chunk.h"

#include <string.h>

static char *render(GPtrArray *chunks)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < chunks->len; i++) {
        GPtrArray *c = chunks->pdata[i];
        g_string_append(s, "[");
        for (guint j = 0; j < c->len; j++)
            g_string_append_printf(s, "%s%s", j ? " " : "", (char *)c->pdata[j]);
        g_string_append(s, "]");
    }
    return g_string_free(s, FALSE);
}

static void test_chunks(void **state)
{
    static const struct {
        const char *rcpts;
        unsigned max;
        const char *want;
    } cases[] = {
        /* com, org, net: two transactions, the larger bucket (.org .net) first. */
        {"a@x.com b@y.org c@z.net", 500, "[b@y.org c@z.net][a@x.com]"},
        /* 5 .com with max 2: 2, 2, 1. */
        {"e@c.com d@c.com c@c.com b@c.com a@c.com", 2,
         "[d@c.com e@c.com][b@c.com c@c.com][a@c.com]"},
        /* The largest bucket first; other TLDs share bucket 0; sorted inside. */
        {"z@a.de y@b.fr x@c.com", 10, "[y@b.fr z@a.de][x@c.com]"},
        {"a@x.edu b@y.us c@z.ca d@w.com", 10, "[a@x.edu b@y.us c@z.ca][d@w.com]"},
        /* Already sorted (as the pipeline hands them over): kept as they are. */
        {"a@c.com b@c.com c@c.com", 2, "[a@c.com b@c.com][c@c.com]"},
        /* Sorted but for the last of a chunk. */
        {"a@c.com c@c.com b@c.com", 3, "[a@c.com b@c.com c@c.com]"},
        /* max 0: one chunk. */
        {"a@x.com b@y.org c@z.net", 0, "[a@x.com b@y.org c@z.net]"},
        {"", 500, ""},
        {"noat", 500, "[noat]"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(GStrv) parts = g_strsplit(cases[i].rcpts, " ", -1);
        guint n = *cases[i].rcpts ? g_strv_length(parts) : 0;
        GPtrArray *chunks = deliver_chunkify(parts, n, cases[i].max);
        g_autofree char *got = render(chunks);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got %s, want %s", i, got, cases[i].want);
        g_ptr_array_unref(chunks);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_chunks)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
