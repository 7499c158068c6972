/* libFuzzer: the LMTP intake edits on a raw message. An accepted message
 * keeps its body byte for byte and gains exactly one Message-ID-Hash. */
#include "lmtp/lmtp_intake.h"

#include "fuzz.h"
#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GByteArray *out = NULL;
    char hash[MSGID_HASH_LEN + 1];
    const char *why = NULL;
    if (lmtp_intake_prepare((const char *)data, size, "a@example.org", "fuzz.example", &out, hash,
                            &why) != 0)
        return 0;
    FUZZ_CHECK(strlen(hash) == MSGID_HASH_LEN);
    FUZZ_CHECK(out->len >= MSGID_HASH_LEN);
    /* The body (after the first empty line of the input) ends the output. */
    const char *in = (const char *)data;
    const char *sep = g_strstr_len(in, (gssize)size, "\n\n");
    if (sep != NULL) {
        size_t body = size - (size_t)(sep + 1 - in);
        FUZZ_CHECK(out->len >= body);
        FUZZ_CHECK(memcmp(out->data + out->len - body, sep + 1, body) == 0);
    }
    g_byte_array_unref(out);
    return 0;
}
