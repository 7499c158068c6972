/* rest_password - see rest_password.h. */
#include "rest/rest_password.h"

#include "post/post.h"

#include <crypt.h>
#include <glib.h>
#include <openssl/rand.h>
#include <string.h>

static const char b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void random_chars(char *out, int n, const char *alphabet, size_t alen)
{
    unsigned char raw[64];
    g_assert(n <= (int)sizeof raw);
    if (RAND_bytes(raw, n) != 1)
        for (int i = 0; i < n; i++)
            raw[i] = (unsigned char)g_random_int();
    for (int i = 0; i < n; i++)
        out[i] = alphabet[raw[i] % alen];
}

char *rest_password_hash(const char *cleartext)
{
    char salt[64] = "$6$rounds=60000$";
    size_t at = strlen(salt);
    random_chars(salt + at, 16, b64, 64);
    salt[at + 16] = '$';
    salt[at + 17] = '\0';
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    const char *h = crypt_r(cleartext, salt, &data);
    return h && h[0] == '$' ? g_strdup(h) : NULL;
}

bool rest_password_check(const char *stored, const char *cleartext)
{
    return post_password_ok(stored, cleartext);
}

char *rest_password_generate(int len)
{
    /* passlib's default charset: letters and digits without look-alikes. */
    static const char chars[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz";
    len = CLAMP(len, 1, 64);
    char *pw = g_malloc((gsize)len + 1);
    random_chars(pw, len, chars, sizeof chars - 1);
    pw[len] = '\0';
    return pw;
}
