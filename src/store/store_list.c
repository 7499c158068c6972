/*
 * store_list - mailing lists: create with a style, get by fqdn or list_id,
 * list, remove. See store.h and store_list.h.
 *
 * A list row holds only its identity; attributes are rows of list_attr
 * holding what differs from the legacy-default column of list_attr.c. A
 * new list gets rows for its display_name, subject_prefix, created_at and
 * the overrides of its style, so the style need not be remembered.
 */
#include "store/store_list.h"

#include <glib.h>
#include <string.h>

#include "store/list_attr.h"
#include "store/store.h"
#include "store/store_db.h"

#define LIST_COLS "SELECT id, list_name, mail_host, list_id FROM mailinglist"

/* Splits "name@host" into lower-cased parts; false when malformed. */
static bool split_fqdn(const char *fqdn, char **name_r, char **host_r)
{
    if (fqdn == NULL || strlen(fqdn) > 254 || !g_utf8_validate(fqdn, -1, NULL))
        return false;
    const char *at = strrchr(fqdn, '@');
    if (at == NULL || at == fqdn || at[1] == '\0')
        return false;
    for (const char *p = fqdn; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '/' || (*p == '@' && p != at))
            return false;
    *name_r = g_utf8_strdown(fqdn, at - fqdn);
    *host_r = g_utf8_strdown(at + 1, -1);
    return true;
}

int store_list_find(struct store *st, const char *spec, int64_t *row_r, char **list_id_r,
                    char **error_r)
{
    g_autofree char *name = NULL;
    g_autofree char *host = NULL;
    struct store_stmt *s;
    if (spec != NULL && strchr(spec, '@') != NULL) {
        if (!split_fqdn(spec, &name, &host))
            return 0;
        s = store_db_prepare(
            st, "SELECT id, list_id FROM mailinglist WHERE list_name = $1 AND mail_host = $2",
            error_r);
        if (s == NULL)
            return STORE_ERR;
        store_db_bind_text(s, 1, name);
        store_db_bind_text(s, 2, host);
    } else {
        if (spec == NULL || !g_utf8_validate(spec, -1, NULL))
            return 0;
        g_autofree char *lower = g_utf8_strdown(spec, -1);
        s = store_db_prepare(st, "SELECT id, list_id FROM mailinglist WHERE list_id = $1", error_r);
        if (s == NULL)
            return STORE_ERR;
        store_db_bind_text(s, 1, lower);
    }
    int rc = store_db_step(s, error_r);
    if (rc == 1) {
        *row_r = store_db_col_int(s, 0);
        if (list_id_r != NULL)
            *list_id_r = g_strdup(store_db_col_text(s, 1));
    }
    store_db_done(s);
    return rc;
}

static struct store_list *list_new(const char *name, const char *host, const char *list_id)
{
    size_t n = list_attr_count();
    struct store_list *l = g_new0(struct store_list, 1);
    l->list_name = g_strdup(name);
    l->mail_host = g_strdup(host);
    l->list_id = g_strdup(list_id);
    l->fqdn_listname = g_strdup_printf("%s@%s", name, host);
    l->values = g_new0(char *, n + 1);
    return l;
}

/* Fills computed attributes and defaults for what the rows left unset. */
static void list_complete(struct store_list *l)
{
    static const struct {
        const char *attr;
        const char *suffix;
    } addresses[] = {
        {"posting_address", ""},     {"bounces_address", "-bounces"},
        {"join_address", "-join"},   {"leave_address", "-leave"},
        {"owner_address", "-owner"}, {"request_address", "-request"},
    };
    size_t n = list_attr_count();
    for (size_t i = 0; i < G_N_ELEMENTS(addresses); i++) {
        int k = list_attr_index(addresses[i].attr);
        g_free(l->values[k]);
        l->values[k] = g_strdup_printf("%s%s@%s", l->list_name, addresses[i].suffix, l->mail_host);
    }
    static const struct {
        const char *attr;
        size_t offset;
    } identity[] = {
        {"fqdn_listname", G_STRUCT_OFFSET(struct store_list, fqdn_listname)},
        {"list_id", G_STRUCT_OFFSET(struct store_list, list_id)},
        {"list_name", G_STRUCT_OFFSET(struct store_list, list_name)},
        {"mail_host", G_STRUCT_OFFSET(struct store_list, mail_host)},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(identity); i++) {
        int k = list_attr_index(identity[i].attr);
        g_free(l->values[k]);
        l->values[k] = g_strdup(G_STRUCT_MEMBER(char *, l, identity[i].offset));
    }
    int k = list_attr_index("no_reply_address");
    g_free(l->values[k]);
    l->values[k] = g_strdup_printf("noreply@%s", l->mail_host);
    for (size_t i = 0; i < n; i++)
        if (l->values[i] == NULL)
            l->values[i] = g_strdup(list_attr_at(i)->def);
}

static void list_set_value(struct store_list *l, const char *name, const char *value)
{
    int k = list_attr_index(name);
    if (k < 0)
        return; /* a row of an attribute this binary no longer knows */
    g_free(l->values[k]);
    l->values[k] = g_strdup(value);
}

int store_list_load(struct store *st, int64_t row, struct store_list **l_r, char **error_r)
{
    *l_r = NULL;
    struct store_stmt *s = store_db_prepare(st, LIST_COLS " WHERE id = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    int rc = store_db_step(s, error_r);
    struct store_list *l = NULL;
    if (rc == 1)
        l = list_new(store_db_col_text(s, 1), store_db_col_text(s, 2), store_db_col_text(s, 3));
    store_db_done(s);
    if (rc != 1)
        return rc;
    s = store_db_prepare(st, "SELECT name, value FROM list_attr WHERE list = $1", error_r);
    if (s == NULL) {
        store_list_free(l);
        return STORE_ERR;
    }
    store_db_bind_int(s, 1, row);
    while ((rc = store_db_step(s, error_r)) == 1)
        list_set_value(l, store_db_col_text(s, 0), store_db_col_text(s, 1));
    store_db_done(s);
    if (rc < 0) {
        store_list_free(l);
        return rc;
    }
    list_complete(l);
    *l_r = l;
    return 1;
}

static char *capitalize(const char *name)
{
    /* Python's str.capitalize(): first character upper, the rest lower. */
    gunichar first = g_utf8_get_char(name);
    char buf[8] = {0};
    g_unichar_to_utf8(g_unichar_totitle(first), buf);
    g_autofree char *rest = g_utf8_strdown(g_utf8_next_char(name), -1);
    return g_strconcat(buf, rest, NULL);
}

static int attr_insert(struct store *st, int64_t row, const char *name, const char *value,
                       char **error_r)
{
    struct store_stmt *s = store_db_prepare(
        st, "INSERT INTO list_attr (list, name, value) VALUES ($1, $2, $3)", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    store_db_bind_text(s, 2, name);
    store_db_bind_text(s, 3, value);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

static int create_rows(struct store *st, const char *name, const char *host, int style,
                       int64_t *row_r, char **error_r)
{
    int64_t drow = 0;
    int rc = store_db_query_int(st, "SELECT id FROM domain WHERE mail_host = $1", &drow, error_r, 1,
                                host);
    if (rc == 0)
        return store_db_fail(error_r, STORE_NOT_FOUND, "Domain does not exist: %s", host);
    if (rc < 0)
        return rc;
    g_autofree char *list_id = g_strdup_printf("%s.%s", name, host);
    struct store_stmt *s = store_db_prepare(st,
                                            "INSERT INTO mailinglist (domain, list_name, "
                                            "mail_host, list_id) VALUES ($1, $2, $3, $4) "
                                            "RETURNING id",
                                            error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, drow);
    store_db_bind_text(s, 2, name);
    store_db_bind_text(s, 3, host);
    store_db_bind_text(s, 4, list_id);
    rc = store_db_step(s, error_r);
    if (rc == 1)
        *row_r = store_db_col_int(s, 0);
    store_db_done(s);
    if (rc == STORE_EXISTS)
        return store_db_refail(error_r, STORE_EXISTS, "Mailing list exists: %s@%s", name, host);
    if (rc != 1)
        return rc < 0 ? rc : STORE_ERR;

    g_autofree char *display = capitalize(name);
    g_autofree char *prefix = g_strdup_printf("[%s] ", display);
    g_autofree char *created = list_attr_format_time(store_db_now());
    if ((rc = attr_insert(st, *row_r, "display_name", display, error_r)) < 0 ||
        (rc = attr_insert(st, *row_r, "subject_prefix", prefix, error_r)) < 0 ||
        (rc = attr_insert(st, *row_r, "created_at", created, error_r)) < 0)
        return rc;
    for (size_t i = 0; i < list_attr_count(); i++) {
        const struct list_attr *a = list_attr_at(i);
        const char *v = list_attr_default(a, style);
        if (strcmp(v, a->def) != 0 && (rc = attr_insert(st, *row_r, a->name, v, error_r)) < 0)
            return rc;
    }
    return 0;
}

int store_list_create(struct store *st, const char *fqdn, const char *style,
                      struct store_list **l_r, char **error_r)
{
    if (l_r != NULL)
        *l_r = NULL;
    g_autofree char *name = NULL;
    g_autofree char *host = NULL;
    if (!split_fqdn(fqdn, &name, &host))
        return store_db_fail(error_r, STORE_INVALID, "Invalid list posting address: %s",
                             fqdn ? fqdn : "");
    int style_no = list_attr_style_parse(style);
    if (style_no < 0)
        return store_db_fail(error_r, STORE_INVALID, "Unknown list style: %s", style);
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    rc = create_rows(st, name, host, style_no, &row, error_r);
    rc = store_db_tx_end(st, rc, error_r);
    if (rc == 0 && l_r != NULL && store_list_load(st, row, l_r, error_r) != 1)
        return STORE_ERR;
    return rc;
}

int store_list_get(struct store *st, const char *spec, struct store_list **l_r, char **error_r)
{
    *l_r = NULL;
    int64_t row = 0;
    int rc = store_list_find(st, spec, &row, NULL, error_r);
    if (rc != 1)
        return rc;
    return store_list_load(st, row, l_r, error_r);
}

int store_list_list(struct store *st, const char *mail_host, bool advertised_only,
                    struct store_list ***v_r, char **error_r)
{
    *v_r = NULL;
    g_autofree char *host = store_db_lower(mail_host);
    if (mail_host != NULL && host == NULL) {
        *v_r = g_new0(struct store_list *, 1); /* not text: no such domain */
        return 0;
    }
    /* Two queries whatever the number of lists: the lists, then all their
     * attribute rows. */
    struct store_stmt *s =
        host == NULL
            ? store_db_prepare(st, LIST_COLS " ORDER BY list_name, mail_host", error_r)
            : store_db_prepare(st, LIST_COLS " WHERE mail_host = $1 ORDER BY list_name, mail_host",
                               error_r);
    if (s == NULL)
        return STORE_ERR;
    if (host != NULL)
        store_db_bind_text(s, 1, host);
    GPtrArray *v = g_ptr_array_new();
    GHashTable *by_row = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1) {
        struct store_list *l =
            list_new(store_db_col_text(s, 1), store_db_col_text(s, 2), store_db_col_text(s, 3));
        g_hash_table_insert(by_row, g_memdup2(&(int64_t){store_db_col_int(s, 0)}, sizeof(int64_t)),
                            l);
        g_ptr_array_add(v, l);
    }
    store_db_done(s);
    if (rc == 0 && v->len > 0) {
        s = host == NULL ? store_db_prepare(st, "SELECT list, name, value FROM list_attr", error_r)
                         : store_db_prepare(st,
                                            "SELECT a.list, a.name, a.value FROM list_attr a "
                                            "JOIN mailinglist l ON l.id = a.list "
                                            "WHERE l.mail_host = $1",
                                            error_r);
        rc = s == NULL ? STORE_ERR : 0;
        if (s != NULL) {
            if (host != NULL)
                store_db_bind_text(s, 1, host);
            while ((rc = store_db_step(s, error_r)) == 1) {
                int64_t row = store_db_col_int(s, 0);
                struct store_list *l = g_hash_table_lookup(by_row, &row);
                if (l != NULL)
                    list_set_value(l, store_db_col_text(s, 1), store_db_col_text(s, 2));
            }
            store_db_done(s);
        }
    }
    g_hash_table_destroy(by_row);
    GPtrArray *out = g_ptr_array_new();
    for (guint i = 0; i < v->len; i++) {
        struct store_list *l = v->pdata[i];
        list_complete(l);
        if (rc >= 0 && advertised_only && !store_list_attr_bool(l, "advertised"))
            store_list_free(l);
        else
            g_ptr_array_add(out, l);
    }
    g_ptr_array_free(v, TRUE);
    g_ptr_array_add(out, NULL);
    struct store_list **arr = (struct store_list **)g_ptr_array_free(out, FALSE);
    if (rc < 0) {
        store_listv_free(arr);
        return rc;
    }
    *v_r = arr;
    return 0;
}

int store_list_purge(struct store *st, int64_t row, const char *list_id, char **error_r)
{
    int64_t n = store_db_run(st,
                             "DELETE FROM pended WHERE id IN (SELECT pended FROM pended_kv "
                             "WHERE key = 'list_id' AND value = $1)",
                             error_r, 1, list_id);
    if (n >= 0)
        n = store_db_run(st, "DELETE FROM bounce_event WHERE list_id = $1", error_r, 1, list_id);
    if (n < 0)
        return (int)n;
    struct store_stmt *s = store_db_prepare(st, "DELETE FROM mailinglist WHERE id = $1", error_r);
    if (s == NULL)
        return STORE_ERR;
    store_db_bind_int(s, 1, row);
    int rc = store_db_step(s, error_r);
    store_db_done(s);
    return rc < 0 ? rc : 0;
}

int store_list_remove(struct store *st, const char *spec, char **error_r)
{
    int rc = store_db_tx_begin(st, error_r);
    if (rc < 0)
        return rc;
    int64_t row = 0;
    g_autofree char *list_id = NULL;
    rc = store_list_find(st, spec, &row, &list_id, error_r);
    if (rc == 1)
        rc = store_list_purge(st, row, list_id, error_r) < 0 ? STORE_ERR : 1;
    return store_db_tx_end(st, rc, error_r);
}

void store_list_free(struct store_list *l)
{
    if (l == NULL)
        return;
    g_free(l->list_name);
    g_free(l->mail_host);
    g_free(l->list_id);
    g_free(l->fqdn_listname);
    if (l->values != NULL)
        for (size_t i = 0; i < list_attr_count(); i++)
            g_free(l->values[i]);
    g_free(l->values);
    g_free(l);
}

void store_listv_free(struct store_list **v)
{
    if (v == NULL)
        return;
    for (struct store_list **p = v; *p != NULL; p++)
        store_list_free(*p);
    g_free(v);
}

int store_list_names(struct store *st, char ***names_r, char ***aliases_r, char **error_r)
{
    struct store_stmt *s = store_db_prepare(
        st,
        "SELECT m.list_name, m.mail_host, COALESCE(d.alias_domain, '') FROM mailinglist m"
        " JOIN domain d ON d.id = m.domain ORDER BY m.mail_host, m.list_name",
        error_r);
    if (s == NULL)
        return STORE_ERR;
    GPtrArray *names = g_ptr_array_new(), *aliases = g_ptr_array_new();
    int rc;
    while ((rc = store_db_step(s, error_r)) == 1) {
        g_ptr_array_add(names,
                        g_strdup_printf("%s@%s", store_db_col_text(s, 0), store_db_col_text(s, 1)));
        g_ptr_array_add(aliases, g_strdup(store_db_col_text(s, 2)));
    }
    store_db_done(s);
    g_ptr_array_add(names, NULL);
    g_ptr_array_add(aliases, NULL);
    if (rc < 0) {
        g_strfreev((char **)g_ptr_array_free(names, FALSE));
        g_strfreev((char **)g_ptr_array_free(aliases, FALSE));
        return rc;
    }
    *names_r = (char **)g_ptr_array_free(names, FALSE);
    *aliases_r = (char **)g_ptr_array_free(aliases, FALSE);
    return 0;
}
