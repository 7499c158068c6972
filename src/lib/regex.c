/* regex - see regex.h. */
#include "lib/regex.h"

GRegex *regex_compile(const char *pattern, char **error_r)
{
    if (!g_utf8_validate(pattern, -1, NULL)) {
        if (error_r)
            *error_r = g_strdup("the pattern is not valid UTF-8");
        return NULL;
    }
    GError *gerr = NULL;
    GRegex *re = g_regex_new(pattern, G_REGEX_CASELESS, 0, &gerr);
    if (re == NULL) {
        if (error_r)
            *error_r = g_strdup(gerr->message);
        g_error_free(gerr);
    }
    return re;
}

bool regex_search(const GRegex *re, const char *subject)
{
    return g_utf8_validate(subject, -1, NULL) && g_regex_match(re, subject, 0, NULL);
}

bool regex_consumes_all(const GRegex *re, const char *subject)
{
    if (!g_utf8_validate(subject, -1, NULL))
        return false;
    char *rest = g_regex_replace_literal(re, subject, -1, 0, "", 0, NULL);
    bool all = rest != NULL && *rest == '\0';
    g_free(rest);
    return all;
}

bool regex_match_start(const GRegex *re, const char *subject)
{
    return g_utf8_validate(subject, -1, NULL) &&
           g_regex_match(re, subject, G_REGEX_MATCH_ANCHORED, NULL);
}
