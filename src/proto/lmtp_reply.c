/* lmtp_reply - reply lines from callbacks, checked and formatted. */
#include "proto/lmtp_reply.h"

#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

void lmtp_reply_set(struct lmtp_reply *reply, int code, const char *fmt, ...)
{
    va_list ap;
    reply->code = code;
    va_start(ap, fmt);
    vsnprintf(reply->text, sizeof reply->text, fmt, ap);
    va_end(ap);
}

/* True if text starts with "C.d{1,3}.d{1,3} " (or ends after it), C the
 * reply's class digit: RFC 3463 §2 status-code syntax. */
static bool has_enhanced_code(const char *text, int class_digit)
{
    const char *p = text;
    if (*p != '0' + class_digit || p[1] != '.')
        return false;
    p += 2;
    for (int part = 0; part < 2; part++) {
        int digits = 0;
        while (g_ascii_isdigit(*p) && digits < 4) {
            p++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            return false;
        if (part == 0 && *p++ != '.')
            return false;
    }
    return *p == ' ' || *p == '\0';
}

size_t lmtp_reply_format(const struct lmtp_reply *reply, char *buf, size_t size)
{
    int code = reply->code;
    const char *text = reply->text;
    /* 3xx is only the server's own 354; anything else is a callback bug. */
    if (code < 200 || code > 599 || code / 100 == 3) {
        code = 451;
        text = "4.3.0 Error: internal error in reply";
    }
    int n;
    if (has_enhanced_code(text, code / 100))
        n = snprintf(buf, size, "%d %s", code, text);
    else
        n = snprintf(buf, size, "%d %d.0.0 %s", code, code / 100, text);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > size - 3)
        len = size - 3;
    /* Nothing in a text may end the line early or add another one. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7f)
            buf[i] = ' ';
        else if (c >= 0x80)
            buf[i] = '?';
    }
    buf[len++] = '\r';
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}
