/*
 * store_domain - domains and their owners (store.h "domains").
 */
#include <glib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_address.h"
#include "store/store_db.h"
#include "store/store_list.h"

static char *host_lower(const char *mail_host)
{
    if (mail_host == NULL || *mail_host == '\0' || strlen(mail_host) > 253 ||
        !g_utf8_validate(mail_host, -1, NULL))
        return NULL;
    for (const char *p = mail_host; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '@' || *p == '/')
            return NULL;
    return g_utf8_strdown(mail_host, -1);
}

static const char *domain_cols = "SELECT mail_host, description, alias_domain FROM domain";

static struct store_domain *domain_from_row(struct store_stmt *s)
{
    struct store_domain *d = g_new0(struct store_domain, 1);
    d->mail_host = g_strdup(store_db_col_text(s, 0));
    d->description = g_strdup(store_db_col_text(s, 1));
    d->alias_domain = g_strdup(store_db_col_text(s, 2));
    return d;
}

int store_domain_create(struct store *st, const char *mail_host, const char *description,
                        const char *alias_domain, struct store_domain **d_r, char **error_r)
{
    if (d_r != NULL)
        *d_r = NULL;
    g_autofree char *host = host_lower(mail_host);
    if (host == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid email host: %s",
                             mail_host ? mail_host : "");
    g_autofree char *alias = alias_domain && *alias_domain ? host_lower(alias_domain) : NULL;
    if (alias_domain && *alias_domain && alias == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid alias domain: %s", alias_domain);
    int64_t n = store_db_run(st,
                             "INSERT INTO domain (mail_host, description, alias_domain) "
                             "VALUES ($1, $2, $3)",
                             error_r, 3, host, description, alias);
    if (n == STORE_EXISTS)
        return store_db_refail(error_r, STORE_EXISTS, "Duplicate email host: %s", host);
    if (n < 0)
        return (int)n;
    if (d_r != NULL && store_domain_get(st, host, d_r, error_r) < 0)
        return STORE_ERR;
    return 0;
}

int store_domain_get(struct store *st, const char *mail_host, struct store_domain **d_r,
                     char **error_r)
{
    *d_r = NULL;
    g_autofree char *host = host_lower(mail_host);
    if (host == NULL)
        return 0;
    g_autofree char *sql = g_strconcat(domain_cols, " WHERE mail_host = $1", NULL);
    struct store_stmt *s = store_db_prepare(st, sql, error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, host);
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *d_r = domain_from_row(s);
    store_db_done(s);
    return rc;
}

int store_domain_list(struct store *st, struct store_domain ***v_r, char **error_r)
{
    *v_r = NULL;
    g_autofree char *sql = g_strconcat(domain_cols, " ORDER BY mail_host", NULL);
    struct store_stmt *s = store_db_prepare(st, sql, error_r);
    if (s == NULL)
        return STORE_ERR;
    GPtrArray *v = g_ptr_array_new();
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1)
        g_ptr_array_add(v, domain_from_row(s));
    store_db_done(s);
    g_ptr_array_add(v, NULL);
    struct store_domain **arr = (struct store_domain **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        store_domainv_free(arr);
        return rc;
    }
    *v_r = arr;
    return 0;
}

int store_domain_delete(struct store *st, const char *mail_host, char **error_r)
{
    g_autofree char *host = host_lower(mail_host);
    if (host == NULL)
        return 0;
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    /* Each list goes through the list purge, which also removes what is
     * keyed by list_id text rather than by foreign key. */
    struct store_stmt *s =
        store_db_prepare(st, "SELECT id, list_id FROM mailinglist WHERE mail_host = $1", error_r);
    GArray *rows = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    rc = s == NULL ? STORE_ERR : 0;
    if (s != NULL) {
        store_db_bind_text(s, 1, host);
        while ((rc = store_db_step(s, error_r)) == 1) {
            int64_t row = store_db_col_int(s, 0);
            g_array_append_val(rows, row);
            g_ptr_array_add(ids, g_strdup(store_db_col_text(s, 1)));
        }
        store_db_done(s);
    }
    for (guint i = 0; rc >= 0 && i < rows->len; i++)
        rc = store_list_purge(st, g_array_index(rows, int64_t, i), ids->pdata[i], error_r);
    g_array_free(rows, TRUE);
    g_ptr_array_free(ids, TRUE);
    int64_t n = 0;
    if (rc >= 0) {
        n = store_db_run(st, "DELETE FROM domain WHERE mail_host = $1", error_r, 1, host);
        rc = n < 0 ? (int)n : (n > 0);
    }
    return store_db_tx_end(st, rc, error_r);
}

static int domain_set(struct store *st, const char *sql, const char *mail_host, const char *value,
                      char **error_r)
{
    g_autofree char *host = host_lower(mail_host);
    int64_t n = host == NULL ? 0 : store_db_run(st, sql, error_r, 2, value, host);
    if (n < 0)
        return (int)n;
    if (n == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such domain: %s",
                             mail_host ? mail_host : "");
    return 0;
}

int store_domain_set_description(struct store *st, const char *mail_host, const char *value,
                                 char **error_r)
{
    return domain_set(st, "UPDATE domain SET description = $1 WHERE mail_host = $2", mail_host,
                      value, error_r);
}

int store_domain_set_alias_domain(struct store *st, const char *mail_host, const char *value,
                                  char **error_r)
{
    g_autofree char *alias = value && *value ? host_lower(value) : NULL;
    if (value && *value && alias == NULL)
        return store_db_fail(error_r, STORE_INVALID, "Invalid alias domain: %s", value);
    return domain_set(st, "UPDATE domain SET alias_domain = $1 WHERE mail_host = $2", mail_host,
                      alias, error_r);
}

static int domain_row(struct store *st, const char *mail_host, int64_t *row_r, char **error_r)
{
    g_autofree char *host = host_lower(mail_host);
    int rc = host == NULL ? 0
                          : store_db_query_int(st, "SELECT id FROM domain WHERE mail_host = $1",
                                               row_r, error_r, 1, host);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such domain: %s",
                             mail_host ? mail_host : "");
    return rc < 0 ? rc : 0;
}

int store_domain_owner_add(struct store *st, const char *mail_host, const char *email,
                           char **error_r)
{
    int64_t drow = 0, arow = 0, urow = 0;
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    rc = domain_row(st, mail_host, &drow, error_r);
    if (rc == 0)
        rc = store_address_ensure(st, email, NULL, true, &arow, &urow, error_r);
    if (rc == 0) {
        struct store_stmt *s = store_db_prepare(
            st,
            "INSERT INTO domain_owner (domain, user_row) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            store_db_bind_int(s, 1, drow);
            store_db_bind_int(s, 2, urow);
            rc = store_db_step(s, error_r);
            store_db_done(s);
        }
    }
    return store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
}

int store_domain_owner_remove(struct store *st, const char *mail_host, const char *email,
                              char **error_r)
{
    int64_t drow = 0;
    int rc = domain_row(st, mail_host, &drow, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *lower = store_db_email_lower(email);
    if (lower == NULL)
        return 0;
    struct store_stmt *s =
        store_db_prepare(st,
                         "DELETE FROM domain_owner WHERE domain = $1 AND user_row = "
                         "(SELECT user_row FROM address WHERE email = $2)",
                         error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, drow);
    store_db_bind_text(s, 2, lower);
    rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : store_db_changes(st) > 0;
}

int store_domain_owners(struct store *st, const char *mail_host, char ***user_ids_r, char **error_r)
{
    *user_ids_r = NULL;
    int64_t drow = 0;
    int rc = domain_row(st, mail_host, &drow, error_r);
    if (rc < 0)
        return rc;
    struct store_stmt *s = store_db_prepare(st,
                                            "SELECT u.user_id FROM domain_owner o JOIN users u ON "
                                            "u.id = o.user_row WHERE o.domain = $1 "
                                            "ORDER BY u.user_id",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, drow);
    GPtrArray *v = g_ptr_array_new();
    while ((rc = store_db_step(s, error_r)) == 1)
        g_ptr_array_add(v, g_strdup(store_db_col_text(s, 0)));
    store_db_done(s);
    g_ptr_array_add(v, NULL);
    char **arr = (char **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        g_strfreev(arr);
        return rc;
    }
    *user_ids_r = arr;
    return 0;
}

int store_domain_owners_clear(struct store *st, const char *mail_host, char **error_r)
{
    int64_t drow = 0;
    int rc = domain_row(st, mail_host, &drow, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *row = g_strdup_printf("%" G_GINT64_FORMAT, drow);
    int64_t n = store_db_run(st, "DELETE FROM domain_owner WHERE domain = $1", error_r, 1, row);
    return n < 0 ? (int)n : 0;
}
