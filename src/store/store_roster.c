/*
 * store_roster - rosters streamed through a callback, member counts and
 * findmember (store.h "members").
 *
 * A roster is one statement whatever the list's size: filters are bit
 * masks tested in SQL, preferences are resolved in the same query, and each
 * row is handed to the callback as it is read, so memory does not grow with
 * the roster.
 */
#include "lib/regex.h"
#include <glib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_db.h"
#include "store/store_member.h"

/* "mask = 0 or bit v of mask is set", in portable SQL. */
#define MASK_TEST(param, expr) "(" param " = 0 OR ((" param " >> " expr ") & 1) = 1)"

#define ROSTER_FILTER                                                                              \
    MASK_TEST("$2", "m.role")                                                                      \
    " AND " MASK_TEST("$3", "COALESCE(m.p_mode, a.p_mode, u.p_mode, 1)") " AND " MASK_TEST(        \
        "$4", "COALESCE(m.p_status, a.p_status, u.p_status, 1)")

/* The row of list_id: 1, or STORE_NOT_FOUND "No such list: X", or < 0. */
static int list_row(struct store *st, const char *list_id, int64_t *row_r, char **error_r)
{
    int rc = store_db_list_row(st, list_id, row_r, error_r);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", list_id);
    return rc;
}

static int stream(struct store_stmt *s, const GRegex *re,
                  int (*fn)(const struct store_member *m, void *ctx), void *ctx, char **error_r)
{
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1) {
        struct store_member m;
        store_member_from_row(s, &m);
        if (re != NULL && !regex_search(re, m.email))
            continue;
        int r = fn(&m, ctx);
        if (r != 0) {
            rc = r;
            break;
        }
    }
    store_db_done(s);
    return rc;
}

int store_roster(struct store *st, const struct store_roster_filter *f,
                 int (*fn)(const struct store_member *m, void *ctx), void *ctx, char **error_r)
{
    struct store_stmt *s;
    if (f->list_id != NULL) {
        int64_t row = 0;
        int rc = list_row(st, f->list_id, &row, error_r);
        if (rc < 0)
            return rc;
        s = store_db_prepare(st,
                             STORE_MEMBER_SELECT " WHERE m.list = $1 AND " ROSTER_FILTER
                                                 " ORDER BY a.email, m.role",
                             error_r);
        if (s == NULL)
            return STORE_ERR;
        store_db_bind_int(s, 1, row);
    } else {
        s = store_db_prepare(st,
                             STORE_MEMBER_SELECT " WHERE $1 = 0 AND " ROSTER_FILTER
                                                 " ORDER BY a.email, l.list_id, m.role",
                             error_r);
        if (s == NULL)
            return STORE_ERR;
        store_db_bind_int(s, 1, 0);
    }
    store_db_bind_int(s, 2, f->role_mask);
    store_db_bind_int(s, 3, f->delivery_mode_mask);
    store_db_bind_int(s, 4, f->delivery_status_mask);
    /* A whole list is read once: a small page cache (store_db.h). */
    store_db_scan_mode(st, true);
    int rc = stream(s, NULL, fn, ctx, error_r);
    store_db_scan_mode(st, false);
    return rc;
}

/* The columns and defaults are STORE_MEMBER_SELECT's (store_member.h): a
 * preference is the member's, else the address's, else the user's, else
 * the system default. Only the email and two flags are read, in the
 * index's order: no sorter (which held the whole result, about 60 bytes a
 * member, for 1,000,000 members), and a small page cache for the scan. */
#define RECIPIENTS_SELECT                                                                          \
    "SELECT a.email, COALESCE(m.p_rop, a.p_rop, u.p_rop, 1), "                                     \
    "COALESCE(m.p_rlc, a.p_rlc, u.p_rlc, 1) "                                                      \
    "FROM member m JOIN address a ON a.id = m.address LEFT JOIN users u ON u.id = a.user_row "     \
    "WHERE m.list = $1 AND m.role = $2 AND COALESCE(m.p_mode, a.p_mode, u.p_mode, 1) = $3 "        \
    "AND COALESCE(m.p_status, a.p_status, u.p_status, 1) = $4"

int store_roster_version(struct store *st, int64_t *version_r, char **error_r)
{
    int rc =
        store_db_query_int(st, "SELECT v FROM roster_version WHERE id = 1", version_r, error_r, 0);
    if (rc == 0)
        *error_r = g_strdup("the roster_version row is missing");
    return rc < 0 ? rc : (rc == 1 ? 0 : STORE_ERR);
}

int store_roster_recipients(struct store *st, const char *list_id,
                            int (*fn)(const struct store_recipient *r, void *ctx), void *ctx,
                            char **error_r)
{
    int64_t row = 0;
    int rc = list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s = store_db_prepare(st, RECIPIENTS_SELECT, error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, STORE_ROLE_MEMBER);
    store_db_bind_int(s, 3, STORE_DELIVERY_REGULAR);
    store_db_bind_int(s, 4, STORE_DELIVERY_ENABLED);
    store_db_scan_mode(st, true);
    while ((rc = store_db_step(s, error_r)) == 1) {
        const char *email = store_db_col_text(s, 0);
        struct store_recipient r = {.email = email ? email : "",
                                    .len = email ? strlen(email) : 0,
                                    .receive_own_postings = store_db_col_int(s, 1) != 0,
                                    .receive_list_copy = store_db_col_int(s, 2) != 0};
        int stop = fn(&r, ctx);
        if (stop != 0) {
            rc = stop;
            break;
        }
    }
    store_db_done(s);
    store_db_scan_mode(st, false);
    return rc;
}

int store_member_count(struct store *st, const char *list_id, int role, int64_t *count_r,
                       char **error_r)
{
    *count_r = 0;
    int64_t row = 0;
    int rc = list_row(st, list_id ? list_id : "", &row, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s = store_db_prepare(
        st, "SELECT count(*) FROM member WHERE list = $1 AND ($2 = 0 OR role = $2)", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_int(s, 2, role);
    rc = store_db_step(s, error_r);
    if (rc == 1)
        *count_r = store_db_col_int(s, 0);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

/* A LIKE pattern matching `needle` anywhere, with LIKE's wildcards escaped. */
static char *like_pattern(const char *needle)
{
    GString *s = g_string_new("%");
    for (const char *p = needle; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            g_string_append_c(s, '\\');
        g_string_append_c(s, *p);
    }
    g_string_append_c(s, '%');
    return g_string_free(s, FALSE);
}

int store_member_find(struct store *st, const char *pattern, const char *list_id, int role,
                      int (*fn)(const struct store_member *m, void *ctx), void *ctx, char **error_r)
{
    g_autoptr(GRegex) re = NULL;
    g_autofree char *like = NULL;
    if (pattern != NULL && pattern[0] == '^') {
        g_autofree char *rerr = NULL;
        re = regex_compile(pattern, &rerr);
        if (re == NULL)
            return store_db_fail(error_r, STORE_INVALID, "Invalid regular expression %s: %s",
                                 pattern, rerr);
    } else if (pattern != NULL && *pattern != '\0') {
        if (!g_utf8_validate(pattern, -1, NULL))
            return store_db_fail(error_r, STORE_INVALID, "Invalid pattern");
        g_autofree char *lower = g_utf8_strdown(pattern, -1);
        like = like_pattern(lower);
    }
    g_autofree char *list_lower = store_db_lower(list_id);
    if (list_id != NULL && list_lower == NULL)
        return 0; /* not text: no such list */
    struct store_stmt *s = store_db_prepare(
        st,
        STORE_MEMBER_SELECT " WHERE ($1 IS NULL OR a.email LIKE $1 ESCAPE '\\') "
                            "AND ($2 IS NULL OR l.list_id = $2) AND ($3 = 0 OR m.role = $3) "
                            "ORDER BY a.email, l.list_id, m.role",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, like);
    store_db_bind_text(s, 2, list_lower);
    store_db_bind_int(s, 3, role);
    return stream(s, re, fn, ctx, error_r);
}
