/* libFuzzer: MAIL FROM / RCPT TO arguments, then Mailman's addressing of the
 * parsed address. The route must never name a list that does not exist. */
#include "lmtp/lmtp_route.h"
#include "proto/lmtp_path.h"

#include "fuzz.h"
#include <glib.h>
#include <stdint.h>
#include <string.h>

static bool exists(void *ctx, const char *fqdn)
{
    return strcmp(fqdn, "ant@example.com") == 0 || strcmp(fqdn, "x-join@example.com") == 0;
}

static const char *alias(void *ctx, const char *domain)
{
    return strcmp(domain, "alias.example") == 0 ? "example.com" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    for (int k = 0; k < 2; k++) {
        struct lmtp_path path = {0};
        char *err = NULL;
        if (lmtp_path_parse(text, k ? "TO" : "FROM", &path, &err) == 0) {
            struct lmtp_route_lookup lk = {exists, alias, NULL, "+"};
            struct lmtp_route r;
            if (lmtp_route_resolve(&lk, path.address, &r) == 1)
                FUZZ_CHECK(exists(NULL, r.fqdn));
            lmtp_path_clear(&path);
        }
        g_free(err);
    }
    struct lmtp_route_lookup lk = {exists, alias, NULL, "+"};
    struct lmtp_route r;
    if (lmtp_route_resolve(&lk, text, &r) == 1)
        FUZZ_CHECK(exists(NULL, r.fqdn));
    g_free(text);
    return 0;
}
