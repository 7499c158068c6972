/* libFuzzer: the LMTP DATA reader, fed in chunks whose sizes come from the
 * input. Invariants: it never consumes more than it is given, it stops at
 * the final dot, and fed whole or in pieces it gives the same message. */
#include "proto/lmtp_data.h"

#include "fuzz.h"
#include <stdint.h>
#include <string.h>

static GByteArray *run(const uint8_t *data, size_t size, size_t chunk, bool *end_r, size_t *used_r)
{
    struct lmtp_data d;
    lmtp_data_init(&d, 4096, 1024);
    size_t off = 0;
    bool end = false;
    while (off < size && !end) {
        size_t n = size - off < chunk ? size - off : chunk;
        size_t used = lmtp_data_push(&d, (const char *)data + off, n, &end);
        FUZZ_CHECK(used <= n);
        if (used == 0 && !end) {
            if (n == size - off)
                break; /* needs more bytes than there are */
            chunk++;
            continue;
        }
        off += used;
    }
    *end_r = end;
    *used_r = off;
    GByteArray *msg = end ? lmtp_data_steal(&d) : NULL;
    lmtp_data_clear(&d);
    return msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = 1 + data[0] % 17;
    bool end1, end2;
    size_t used1, used2;
    GByteArray *a = run(data + 1, size - 1, size, &end1, &used1);
    GByteArray *b = run(data + 1, size - 1, chunk, &end2, &used2);
    FUZZ_CHECK(end1 == end2);
    if (end1) {
        FUZZ_CHECK(used1 == used2);
        FUZZ_CHECK((a == NULL) == (b == NULL));
        if (a && b)
            FUZZ_CHECK(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0));
    }
    if (a)
        g_byte_array_unref(a);
    if (b)
        g_byte_array_unref(b);
    return 0;
}
