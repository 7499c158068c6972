/*
 * store_template - template URIs and list archiver switches (store.h
 * "template URIs", "list archivers"): Mailman's template and listarchiver
 * tables. The site context is stored as '' so that (name, context) is
 * unique.
 */
#include <glib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_db.h"

void store_template_free(struct store_template *t)
{
    if (t == NULL)
        return;
    g_free(t->name);
    g_free(t->context);
    g_free(t->uri);
    g_free(t->username);
    g_free(t->password);
    g_free(t);
}

void store_templatev_free(struct store_template **v)
{
    for (size_t i = 0; v && v[i]; i++)
        store_template_free(v[i]);
    g_free(v);
}

static const char *ctx_key(const char *context)
{
    return context ? context : "";
}

int store_template_set(struct store *st, const char *name, const char *context, const char *uri,
                       const char *username, const char *password, char **error_r)
{
    if (name == NULL || *name == '\0' || uri == NULL)
        return store_db_fail(error_r, STORE_INVALID, "A template needs a name and a URI");
    int64_t n = store_db_run(st,
                             "INSERT INTO template (name, context, uri, username, password) "
                             "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, context) DO UPDATE "
                             "SET uri = excluded.uri, username = excluded.username, "
                             "password = excluded.password",
                             error_r, 5, name, ctx_key(context), uri, username, password);
    return n < 0 ? (int)n : 0;
}

static struct store_template *template_from_row(struct store_stmt *s)
{
    struct store_template *t = g_new0(struct store_template, 1);
    t->name = g_strdup(store_db_col_text(s, 0));
    const char *c = store_db_col_text(s, 1);
    t->context = c && *c ? g_strdup(c) : NULL;
    t->uri = g_strdup(store_db_col_text(s, 2));
    t->username = g_strdup(store_db_col_text(s, 3));
    t->password = g_strdup(store_db_col_text(s, 4));
    return t;
}

int store_template_get(struct store *st, const char *name, const char *context,
                       struct store_template **t_r, char **error_r)
{
    *t_r = NULL;
    struct store_stmt *s = store_db_prepare(st,
                                            "SELECT name, context, uri, username, password FROM "
                                            "template WHERE name = $1 AND context = $2",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, name);
    store_db_bind_text(s, 2, ctx_key(context));
    int rc = store_db_step(s, error_r);
    if (rc == 1)
        *t_r = template_from_row(s);
    store_db_done(s);
    return rc;
}

int store_template_delete(struct store *st, const char *name, const char *context, char **error_r)
{
    int64_t n = store_db_run(st, "DELETE FROM template WHERE name = $1 AND context = $2", error_r,
                             2, name, ctx_key(context));
    return n < 0 ? (int)n : n > 0;
}

int store_template_list(struct store *st, const char *context, struct store_template ***v_r,
                        char **error_r)
{
    *v_r = NULL;
    struct store_stmt *s = store_db_prepare(st,
                                            "SELECT name, context, uri, username, password FROM "
                                            "template WHERE context = $1 ORDER BY name",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_text(s, 1, ctx_key(context));
    GPtrArray *v = g_ptr_array_new();
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1)
        g_ptr_array_add(v, template_from_row(s));
    store_db_done(s);
    g_ptr_array_add(v, NULL);
    struct store_template **all = (struct store_template **)g_ptr_array_free(v, FALSE);
    if (rc < 0) {
        store_templatev_free(all);
        return rc;
    }
    *v_r = all;
    return 0;
}

/* ---- list archivers ---- */

static int archiver_list_row(struct store *st, const char *list_id, int64_t *row_r, char **error_r)
{
    int rc = store_db_list_row(st, list_id, row_r, error_r);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", list_id);
    return rc < 0 ? rc : 0;
}

int store_archiver_get(struct store *st, const char *list_id, const char *name, bool *enabled_r,
                       char **error_r)
{
    int64_t row = 0, v = 0;
    int rc = archiver_list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *rtext = g_strdup_printf("%" G_GINT64_FORMAT, row);
    rc = store_db_query_int(st, "SELECT enabled FROM listarchiver WHERE list = $1 AND name = $2",
                            &v, error_r, 2, rtext, name);
    if (rc == 1)
        *enabled_r = v != 0;
    return rc;
}

int store_archiver_set(struct store *st, const char *list_id, const char *name, bool enabled,
                       char **error_r)
{
    int64_t row = 0;
    int rc = archiver_list_row(st, list_id, &row, error_r);
    if (rc < 0)
        return rc;
    g_autofree char *rtext = g_strdup_printf("%" G_GINT64_FORMAT, row);
    int64_t n = store_db_run(st,
                             "INSERT INTO listarchiver (list, name, enabled) VALUES ($1, $2, $3) "
                             "ON CONFLICT (list, name) DO UPDATE SET enabled = excluded.enabled",
                             error_r, 3, rtext, name, enabled ? "1" : "0");
    return n < 0 ? (int)n : 0;
}
