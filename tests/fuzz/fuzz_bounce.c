/* libFuzzer: bounce messages through VERP decoding and DSN parsing (GMime
 * underneath). Every address found must be non-empty. */
#include "bounce/bounce.h"
#include "fuzz.h"
#include "lib/regex.h"

#include <stdint.h>
#include <string.h>

static void check_set(GHashTable *set)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &k, &v))
        FUZZ_CHECK(k != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static GRegex *re;
    if (re == NULL)
        re = regex_compile("^(?P<bounces>[^+]+?)\\+(?P<local>[^=]+)=(?P<domain>[^@]+)@.*$", NULL);
    GHashTable *v = bounce_verp((const char *)data, size, re, "ant-bounces");
    check_set(v);
    g_hash_table_unref(v);
    struct bounce_dsn r;
    bounce_dsn((const char *)data, size, &r);
    check_set(r.permanent);
    check_set(r.temporary);
    bounce_dsn_clear(&r);
    return 0;
}
