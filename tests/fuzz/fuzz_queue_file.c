/* libFuzzer: the queue file parser. A file it accepts must format back to
 * a header it accepts again with the same metadata and message. */
#include "queue/queue_file.h"

#include "fuzz.h"
#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct queue_meta *meta = NULL;
    size_t off = 0;
    char *err = NULL;
    if (queue_file_parse((const char *)data, size, &meta, &off, &err) != 0) {
        g_free(err);
        return 0;
    }
    FUZZ_CHECK(off <= size);
    GString *again = g_string_new(NULL);
    int rc = queue_file_format_header(again, meta, size - off, &err);
    FUZZ_CHECK(rc == 0);
    g_string_append_len(again, (const char *)data + off, (gssize)(size - off));
    struct queue_meta *meta2 = NULL;
    size_t off2 = 0;
    rc = queue_file_parse(again->str, again->len, &meta2, &off2, &err);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(queue_meta_count(meta) == queue_meta_count(meta2));
    FUZZ_CHECK(again->len - off2 == size - off);
    queue_meta_free(meta);
    queue_meta_free(meta2);
    g_string_free(again, TRUE);
    return 0;
}
