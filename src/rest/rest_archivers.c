/* rest_archivers - see rest_archivers.h. */
#include "rest/rest_archivers.h"

#include "config/config.h"
#include "rest/rest_lists.h"
#include "rest/rest_params.h"
#include "rest/rest_server.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

/* The Archiver classes' name attributes (mailman/archiving/, hyperkitty). */
static const struct {
    const char *class_suffix;
    const char *name;
} known[] = {
    {".MHonArc", "mhonarc"},
    {".MailArchive", "mail-archive"},
    {".Prototype", "prototype"},
    {"mailman_hyperkitty.Archiver", "hyperkitty"},
};

/* The names of the archivers enabled site-wide, in section order (g_free
 * the items: g_ptr_array_unref). */
static GPtrArray *site_archivers(struct config *cfg)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *sections = config_section_names(cfg);
    for (guint i = 0; i < sections->len; i++) {
        const char *sec = sections->pdata[i];
        if (!g_str_has_prefix(sec, "archiver.") || strcmp(sec, "archiver.master") == 0)
            continue;
        g_autofree char *cls = g_strstrip(g_strdup(config_get(cfg, sec, "class")));
        if (*cls == '\0' || !config_get_bool(cfg, sec, "enable"))
            continue;
        const char *name = sec + strlen("archiver.");
        for (size_t k = 0; k < G_N_ELEMENTS(known); k++)
            if (g_str_has_suffix(cls, known[k].class_suffix))
                name = known[k].name;
        g_ptr_array_add(out, g_strdup(name));
    }
    g_ptr_array_unref(sections);
    return out;
}

void rest_list_archivers_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    GPtrArray *names = site_archivers(req->cfg);
    json_t *r = json_object();
    char *err = NULL;
    int rc = 0;
    for (guint i = 0; rc >= 0 && i < names->len; i++) {
        bool on = true;
        rc = store_archiver_get(req->store, l->list_id, names->pdata[i], &on, &err);
        json_object_set_new(r, names->pdata[i], json_boolean(rc == 0 || on));
    }
    if (rc < 0) {
        rest_internal_error(req, "archivers", err);
        json_decref(r);
    } else {
        rest_ok(req, r, NULL);
    }
    g_free(err);
    g_ptr_array_unref(names);
    store_list_free(l);
}

/* lazr.config's as_boolean (which Mailman's ArchiverGetterSetter calls):
 * 1, 0, or -1. JSON booleans are taken as they are. */
static int as_boolean(json_t *v)
{
    static const char *const yes[] = {"true", "yes", "1", "on", "enabled", "enable"};
    static const char *const no[] = {"false", "no", "0", "off", "disabled", "disable"};
    if (json_is_boolean(v))
        return json_is_true(v);
    g_autofree char *tmp = NULL;
    const char *s = rest_param_text(v, &tmp);
    for (size_t i = 0; s && i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(s, yes[i]) == 0)
            return 1;
        if (g_ascii_strcasecmp(s, no[i]) == 0)
            return 0;
    }
    return -1;
}

static gint by_text(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "prefix" and the sorted names, comma-joined; NULL when none. */
static char *names_message(const char *prefix, GPtrArray *v)
{
    if (v->len == 0)
        return NULL;
    g_ptr_array_sort(v, by_text);
    GString *s = g_string_new(prefix);
    for (guint i = 0; i < v->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", (char *)v->pdata[i]);
    return g_string_free(s, FALSE);
}

/* Mailman's Validator over the site's archivers (unexpected names, then
 * missing ones for a PUT), then as_boolean on each value. */
static void patch_put(struct rest_req *req, bool optional)
{
    struct store_list *l = rest_list_of(req, true);
    if (l == NULL)
        return;
    GPtrArray *names = site_archivers(req->cfg);
    json_t *params = rest_params(req);
    g_autoptr(GPtrArray) extras = g_ptr_array_new();
    g_autoptr(GPtrArray) missing = g_ptr_array_new();
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        if (!g_ptr_array_find_with_equal_func(names, key, g_str_equal, NULL))
            g_ptr_array_add(extras, (char *)key);
    }
    for (guint i = 0; !optional && i < names->len; i++)
        if (json_object_get(params, names->pdata[i]) == NULL)
            g_ptr_array_add(missing, names->pdata[i]);
    g_autofree char *unexpected = names_message("Unexpected parameters: ", extras);
    g_autofree char *absent = names_message("Missing Parameter: ", missing);
    char *err = NULL;
    if (unexpected || absent) {
        rest_bad_request(req, "%s", unexpected ? unexpected : absent);
    } else {
        int rc = store_begin(req->store, &err);
        json_object_foreach(params, key, v)
        {
            int on = as_boolean(v);
            if (rc >= 0 && on < 0) {
                g_autofree char *tmp = NULL;
                const char *text = rest_param_text(v, &tmp);
                g_autofree char *lower = g_utf8_strdown(text ? text : "", -1);
                err = g_strdup_printf("Invalid boolean value: %s", lower);
                rc = STORE_INVALID;
            } else if (rc >= 0) {
                rc = store_archiver_set(req->store, l->list_id, key, on, &err);
            }
        }
        if (rest_store_end(req, rc, &err) >= 0)
            rest_no_content(req);
    }
    g_ptr_array_unref(names);
    store_list_free(l);
}

void rest_list_archivers_put(struct rest_req *req)
{
    patch_put(req, false);
}

void rest_list_archivers_patch(struct rest_req *req)
{
    patch_put(req, true);
}
