/*
 * store_list_attr - reading and writing list attributes (store.h "mailing
 * lists", the attribute half): accessors on a loaded list, one-attribute
 * reads and validated writes. The schema is list_attr.c's table.
 *
 * Only values that differ from the legacy-default are stored: writing the
 * default deletes the row, so a later change of a default in list_attr.c
 * reaches every list that never chose otherwise.
 */
#include <glib.h>
#include <string.h>

#include "lib/log.h"
#include "store/list_attr.h"
#include "store/store.h"
#include "store/store_db.h"
#include "store/store_list.h"

static int attr_index(const char *name)
{
    int k = list_attr_index(name);
    if (k < 0)
        log_error("store: unknown list attribute %s", name ? name : "(null)");
    return k;
}

const char *store_list_attr(const struct store_list *l, const char *name)
{
    int k = attr_index(name);
    return k < 0 ? NULL : l->values[k];
}

int64_t store_list_attr_int(const struct store_list *l, const char *name)
{
    int k = attr_index(name);
    return k < 0 ? 0 : list_attr_int(list_attr_at((size_t)k), l->values[k]);
}

bool store_list_attr_bool(const struct store_list *l, const char *name)
{
    return store_list_attr_int(l, name) != 0;
}

double store_list_attr_seconds(const struct store_list *l, const char *name)
{
    int k = attr_index(name);
    return k < 0 ? 0 : list_attr_seconds(list_attr_at((size_t)k), l->values[k]);
}

char **store_list_attr_strv(const struct store_list *l, const char *name)
{
    const char *v = store_list_attr(l, name);
    if (v == NULL || *v == '\0')
        return g_new0(char *, 1);
    return g_strsplit(v, "\n", -1);
}

static const struct list_attr *attr_lookup(const char *name, char **error_r)
{
    const struct list_attr *a = list_attr_find(name);
    if (a == NULL)
        store_db_fail(error_r, STORE_UNKNOWN_ATTR, "Unknown attribute: %s", name ? name : "");
    return a;
}

int store_list_get_attr(struct store *st, const char *spec, const char *name, char **value_r,
                        char **error_r)
{
    *value_r = NULL;
    if (attr_lookup(name, error_r) == NULL)
        return STORE_UNKNOWN_ATTR;
    struct store_list *l = NULL;
    int rc = store_list_get(st, spec, &l, error_r);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", spec ? spec : "");
    *value_r = g_strdup(store_list_attr(l, name));
    store_list_free(l);
    return 0;
}

/* Writes the canonical value for the list row (inside a transaction or
 * not: it is one statement). */
static int attr_write(struct store *st, int64_t row, const struct list_attr *a, const char *canon,
                      char **error_r)
{
    struct store_stmt *s;
    if (strcmp(canon, a->def) == 0) {
        s = store_db_prepare(st, "DELETE FROM list_attr WHERE list = $1 AND name = $2", error_r);
    } else {
        s = store_db_prepare(st,
                             "INSERT INTO list_attr (list, name, value) VALUES ($1, $2, $3) "
                             "ON CONFLICT (list, name) DO UPDATE SET value = excluded.value",
                             error_r);
    }
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_text(s, 2, a->name);
    if (strcmp(canon, a->def) != 0)
        store_db_bind_text(s, 3, canon);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

static int set_attr(struct store *st, const char *spec, const char *name, const char *value,
                    bool internal, char **error_r)
{
    const struct list_attr *a = attr_lookup(name, error_r);
    if (a == NULL)
        return STORE_UNKNOWN_ATTR;
    if ((a->flags & LIST_ATTR_COMPUTED) || ((a->flags & LIST_ATTR_READ_ONLY) && !internal))
        return store_db_fail(error_r, STORE_READ_ONLY, "Read-only attribute: %s", a->name);
    g_autofree char *canon = NULL;
    int rc = list_attr_normalize(a, value, &canon, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    rc = store_list_find(st, spec, &row, NULL, error_r);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", spec ? spec : "");
    return attr_write(st, row, a, canon, error_r);
}

int store_list_set_attr(struct store *st, const char *spec, const char *name, const char *value,
                        char **error_r)
{
    return set_attr(st, spec, name, value, false, error_r);
}

int store_list_set_attr_internal(struct store *st, const char *spec, const char *name,
                                 const char *value, char **error_r)
{
    return set_attr(st, spec, name, value, true, error_r);
}

int store_list_attr_add(struct store *st, const char *spec, const char *name, int64_t delta,
                        int64_t *value_r, char **error_r)
{
    const struct list_attr *a = attr_lookup(name, error_r);
    if (a == NULL)
        return STORE_UNKNOWN_ATTR;
    if (a->type != LIST_ATTR_INT || (a->flags & LIST_ATTR_COMPUTED))
        return store_db_fail(error_r, STORE_INVALID, "Not a counter attribute: %s", a->name);
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    rc = store_list_find(st, spec, &row, NULL, error_r);
    if (rc == 0)
        rc = store_db_fail(error_r, STORE_NOT_FOUND, "No such list: %s", spec ? spec : "");
    int64_t v = 0;
    if (rc > 0) {
        struct store_stmt *s = store_db_prepare(
            st, "SELECT value FROM list_attr WHERE list = $1 AND name = $2", error_r);
        rc = STORE_ERR;
        if (s != NULL) {
            store_db_bind_int(s, 1, row);
            store_db_bind_text(s, 2, a->name);
            rc = store_db_step(s, error_r);
            v = list_attr_int(a, rc == 1 ? store_db_col_text(s, 0) : a->def);
            store_db_done(s);
        }
    }
    if (rc >= 0) {
        v += delta;
        if (v < 0)
            v = 0;
        g_autofree char *canon = g_strdup_printf("%" G_GINT64_FORMAT, v);
        rc = attr_write(st, row, a, canon, error_r);
    }
    rc = store_db_tx_end(st, rc < 0 ? rc : 0, error_r);
    if (rc == 0 && value_r != NULL)
        *value_r = v;
    return rc;
}
