/* address - see address.h. */
#include "lib/regex.h"
#include "mail/address.h"

#include <glib.h>
#include <string.h>

static bool valid_local_char(unsigned char c)
{
    return g_ascii_isalnum(c) || (c != '\0' && strchr("-!#$%&'*+./=?@_`{}~", c) != NULL);
}

bool address_is_valid(const char *email)
{
    if (email == NULL || *email == '\0' || strlen(email) > ADDRESS_MAX_LEN)
        return false;
    /* Python's partition: the local part ends at the first '@'. */
    const char *at = strchr(email, '@');
    if (at == NULL || at == email)
        return false;
    for (const char *p = email; p < at; p++)
        if (!valid_local_char((unsigned char)*p))
            return false;
    const char *domain = at + 1;
    int labels = 0;
    const char *label = domain;
    for (const char *p = domain;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - label);
            if (n == 0 || label[0] == '-')
                return false;
            labels++;
            if (*p == '\0')
                break;
            label = p + 1;
            continue;
        }
        if (!g_ascii_isalnum(*p) && *p != '-')
            return false;
    }
    return labels >= 2;
}

bool address_list_name_ok(const char *list_name, const char *listname_chars)
{
    for (const char *p = list_name; *p; p++)
        if (!g_ascii_isalnum(*p) && strchr("-_.+=!$*{}~", *p) == NULL)
            return false;
    if (listname_chars == NULL || *listname_chars == '\0')
        return true;
    GRegex *re = regex_compile(listname_chars, NULL);
    if (re == NULL)
        return true;
    bool ok = regex_consumes_all(re, list_name);
    g_regex_unref(re);
    return ok;
}
