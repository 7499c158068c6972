/* msgid_hash - Message-ID-Hash: base32 of SHA-1 of the Message-ID. */
#include "mail/msgid_hash.h"

#include <glib.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lib/log.h"

/* UTF-8 forms of the non-ASCII characters Python's str.isspace() accepts. */
static const char *const unicode_spaces[] = {
    "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
    "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
    "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
    "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
};

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Length of the whitespace character at s[0] (s[-n+1..0] when backwards),
 * or 0. */
static size_t space_at(const char *s, size_t avail, bool backwards)
{
    const char *p = backwards ? s + avail - 1 : s;
    if (avail > 0 && is_ascii_space((unsigned char)*p))
        return 1;
    for (size_t i = 0; i < G_N_ELEMENTS(unicode_spaces); i++) {
        size_t n = strlen(unicode_spaces[i]);
        if (n <= avail && memcmp(backwards ? s + avail - n : s, unicode_spaces[i], n) == 0)
            return n;
    }
    return 0;
}

void msgid_hash(const char *message_id, size_t len, char out[MSGID_HASH_LEN + 1])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const char *p = message_id;
    if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
        p++;
        len -= 2;
    } else {
        size_t n;
        while ((n = space_at(p, len, false)) > 0) {
            p += n;
            len -= n;
        }
        while ((n = space_at(p, len, true)) > 0)
            len -= n;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(p, len, md, &md_len, EVP_sha1(), NULL) != 1 || md_len != 20)
        log_panic("msgid_hash: SHA-1 failed");
    /* RFC 4648 §6: 5 groups of 5 bits per 40-bit block; 160 bits = 32. */
    size_t o = 0;
    for (size_t block = 0; block < 20; block += 5) {
        uint64_t bits = 0;
        for (size_t i = 0; i < 5; i++)
            bits = bits << 8 | md[block + i];
        for (int shift = 35; shift >= 0; shift -= 5)
            out[o++] = alphabet[(bits >> shift) & 31];
    }
    out[o] = '\0';
}
