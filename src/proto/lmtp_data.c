/* lmtp_data - DATA body reader: end detection, dot-unstuffing, line-end
 * normalization, size and header-size bounds. */
#include "proto/lmtp_data.h"

#include <string.h>

/* Where the current line stands while the header block is read: the block
 * ends at an empty line or at the first line that is neither a field
 * ("name:") nor a continuation (leading WSP), as RFC 5322 parsers decide. */
enum {
    HDR_LINE_START,
    HDR_NAME,
    HDR_FIELD,
};

void lmtp_data_init(struct lmtp_data *data, size_t max_message_size, size_t max_header_size)
{
    *data = (struct lmtp_data){
        .max_message_size = max_message_size,
        .max_header_size = max_header_size,
        .buf = g_byte_array_new(),
        .at_line_start = true,
        .line_empty = true,
        .in_header = true,
        .hdr_state = HDR_LINE_START,
    };
}

static void drop_buffer(struct lmtp_data *data)
{
    g_clear_pointer(&data->buf, g_byte_array_unref);
}

/* Follows the header syntax over p[0..n); returns how many of those bytes
 * still belong to the header block (n if it has not ended). */
static size_t classify(struct lmtp_data *data, const char *p, size_t n)
{
    for (size_t i = 0; i < n && data->hdr_state != HDR_FIELD; i++) {
        unsigned char c = (unsigned char)p[i];
        if (data->hdr_state == HDR_LINE_START && (c == ' ' || c == '\t'))
            data->hdr_state = HDR_FIELD;
        else if (c == ':' && data->hdr_state == HDR_NAME)
            data->hdr_state = HDR_FIELD;
        else if (c > ' ' && c < 0x7f && c != ':')
            data->hdr_state = HDR_NAME;
        else {
            data->in_header = false;
            return i;
        }
    }
    return n;
}

/* Accounts `counted` octets of which the first n (line content) are stored,
 * plus an LF when eol. The header block's size counts exactly the octets up
 * to where it ended, so that it does not depend on how the input was cut
 * into pieces (found by fuzzing). */
static void take(struct lmtp_data *data, const char *p, size_t n, size_t counted, bool eol)
{
    size_t header = 0;
    if (data->in_header) {
        if (eol && data->line_empty && n == 0) {
            data->in_header = false; /* the empty line ending the header */
        } else {
            size_t k = classify(data, p, n);
            if (data->in_header) {
                header = counted;
                if (eol && data->hdr_state != HDR_FIELD)
                    data->in_header = false; /* "name" without ':' starts the body */
            } else {
                header = k;
            }
        }
    }
    data->size += counted;
    data->header_size += header;
    if (data->buf != NULL && data->size > data->max_message_size) {
        data->too_big = true;
        drop_buffer(data);
    }
    if (data->buf != NULL && data->header_size > data->max_header_size) {
        data->header_too_big = true;
        drop_buffer(data);
    }
    if (data->buf != NULL) {
        g_byte_array_append(data->buf, (const guint8 *)p, (guint)n);
        if (eol)
            g_byte_array_append(data->buf, (const guint8 *)"\n", 1);
    }
    if (n > 0)
        data->line_empty = false;
    if (eol) {
        data->at_line_start = true;
        data->line_empty = true;
        data->hdr_state = HDR_LINE_START;
    }
}

size_t lmtp_data_push(struct lmtp_data *data, const char *bytes, size_t len, bool *end_r)
{
    size_t i = 0;
    *end_r = false;
    while (i < len) {
        if (data->at_line_start) {
            if (bytes[i] == '.') {
                /* ".\r\n" or ".\n" ends the data; otherwise the dot was
                 * stuffed by the client and goes. Decide on whole bytes. */
                if (i + 1 >= len)
                    break;
                if (bytes[i + 1] == '\n') {
                    *end_r = true;
                    return i + 2;
                }
                if (bytes[i + 1] == '\r') {
                    if (i + 2 >= len)
                        break;
                    if (bytes[i + 2] == '\n') {
                        *end_r = true;
                        return i + 3;
                    }
                }
                i++;
            }
            data->at_line_start = false;
        }
        const char *nl = memchr(bytes + i, '\n', len - i);
        if (nl != NULL) {
            size_t n = (size_t)(nl - (bytes + i));
            size_t content = n > 0 && bytes[i + n - 1] == '\r' ? n - 1 : n;
            take(data, bytes + i, content, n + 1, true);
            i += n + 1;
        } else {
            /* A trailing CR may be half of a CRLF: keep it for later. */
            size_t n = len - i;
            if (bytes[len - 1] == '\r')
                n--;
            if (n == 0)
                break;
            take(data, bytes + i, n, n, false);
            i += n;
        }
    }
    return i;
}

GByteArray *lmtp_data_steal(struct lmtp_data *data)
{
    GByteArray *buf = data->buf;
    data->buf = NULL;
    return buf;
}

void lmtp_data_clear(struct lmtp_data *data)
{
    drop_buffer(data);
}
