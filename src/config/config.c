/* config - see config.h. */
#include "config/config.h"

#include "config/config_parse.h"
#include "config/config_schema.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct config_value {
    char *value;
    const struct config_key *spec;
};

struct config_section {
    char *name;
    GHashTable *keys; /* key → struct config_value */
    bool hidden;
};

struct config {
    char *filename;
    GHashTable *sections; /* name → struct config_section */
    GPtrArray *warnings;
    GHashTable *paths; /* name → absolute path */
};

/* The names Mailman expands in [paths.*] (DIR_NAMES plus the two files). */
static const char *const path_dir_names[] = {
    "archive_dir",   "bin_dir",  "cache_dir", "data_dir",     "etc_dir",   "ext_dir",
    "list_data_dir", "lock_dir", "log_dir",   "messages_dir", "queue_dir", NULL};

static const char *const hidden_sections[] = {"postfix", NULL};

static void value_free(void *p)
{
    struct config_value *v = p;
    g_free(v->value);
    g_free(v);
}

static void section_free(void *p)
{
    struct config_section *s = p;
    g_hash_table_unref(s->keys);
    g_free(s->name);
    g_free(s);
}

static struct config_section *section_find(const struct config *cfg, const char *name)
{
    return g_hash_table_lookup(cfg->sections, name);
}

static void section_set(struct config_section *s, const char *key, const char *value,
                        const struct config_key *spec)
{
    struct config_value *v = g_new0(struct config_value, 1);
    v->value = g_strdup(value);
    v->spec = spec;
    g_hash_table_replace(s->keys, g_strdup(key), v);
}

/* Creates section if needed; an instance starts as a copy of its template. */
static struct config_section *section_ensure(struct config *cfg, const char *name)
{
    struct config_section *s = section_find(cfg, name);
    if (s != NULL)
        return s;
    s = g_new0(struct config_section, 1);
    s->name = g_strdup(name);
    s->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
    for (const char *const *h = hidden_sections; *h; h++)
        if (strcmp(*h, name) == 0)
            s->hidden = true;
    const char *tmpl = config_schema_template_of(name);
    struct config_section *t = tmpl ? section_find(cfg, tmpl) : NULL;
    if (t != NULL) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, t->keys);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            const struct config_value *tv = v;
            section_set(s, k, tv->value, tv->spec);
        }
    }
    g_hash_table_insert(cfg->sections, s->name, s);
    return s;
}

static struct config *config_new_defaults(void)
{
    struct config *cfg = g_new0(struct config, 1);
    cfg->sections = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, section_free);
    cfg->warnings = g_ptr_array_new_with_free_func(g_free);
    cfg->paths = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (const struct config_key *k = config_schema; k->section; k++)
        section_set(section_ensure(cfg, k->section), k->key, k->def, k);
    for (const struct config_override *o = config_builtin; o->section; o++) {
        struct config_section *s = section_ensure(cfg, o->section);
        if (o->key == NULL)
            continue;
        struct config_value *v = g_hash_table_lookup(s->keys, o->key);
        if (v == NULL)
            log_panic("config_builtin: [%s] %s is not in the schema", o->section, o->key);
        section_set(s, o->key, o->value, v->spec);
    }
    return cfg;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    g_hash_table_unref(cfg->sections);
    g_ptr_array_unref(cfg->warnings);
    g_hash_table_unref(cfg->paths);
    g_free(cfg->filename);
    g_free(cfg);
}

/* Applying one file's entries. */
struct apply_ctx {
    struct config *cfg;
    const char *filename;
    bool mta_file; /* the MTA's file: only its hidden section counts */
    GPtrArray *errors;
    GHashTable *warned; /* "section" or "section\nkey" already warned about */
};

static void warn_once(struct apply_ctx *a, const char *id, char *msg)
{
    if (g_hash_table_contains(a->warned, id)) {
        g_free(msg);
        return;
    }
    g_hash_table_add(a->warned, g_strdup(id));
    g_ptr_array_add(a->cfg->warnings, msg);
}

static void apply_entry(void *ctx, const char *section, const char *key, const char *value,
                        int line)
{
    struct apply_ctx *a = ctx;
    struct config_section *s = section_find(a->cfg, section);
    if (s != NULL && s->hidden != a->mta_file)
        s = NULL;
    if (s == NULL && !a->mta_file) {
        const char *tmpl = config_schema_template_of(section);
        g_autofree char *category = g_strndup(section, strcspn(section, "."));
        if (tmpl != NULL && config_schema_category_open(category))
            s = section_ensure(a->cfg, section);
    }
    if (s == NULL) {
        warn_once(
            a, section,
            g_strdup_printf("%s:%d: unknown section [%s] ignored", a->filename, line, section));
        return;
    }
    struct config_value *v = g_hash_table_lookup(s->keys, key);
    if (v == NULL) {
        g_autofree char *id = g_strconcat(section, "\n", key, NULL);
        warn_once(a, id,
                  g_strdup_printf("%s:%d: unknown key '%s' in [%s] ignored", a->filename, line, key,
                                  section));
        return;
    }
    const char *form = NULL;
    if (!config_schema_check(v->spec, value, &form)) {
        g_ptr_array_add(a->errors,
                        g_strdup_printf("%s:%d: [%s] %s: invalid value '%s'; expected %s",
                                        a->filename, line, section, key, value, form));
        return;
    }
    section_set(s, key, value, v->spec);
}

static int apply_file_text(struct config *cfg, const char *text, size_t len, const char *filename,
                           bool mta_file, GPtrArray *errors)
{
    struct apply_ctx a = {cfg, filename, mta_file, errors,
                          g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    guint before = errors->len;
    config_parse_text(text, len, filename, apply_entry, &a, errors);
    g_hash_table_unref(a.warned);
    return errors->len > before ? -1 : 0;
}

/* [mta] configuration: Mailman's resource name or an absolute file path. */
static int load_mta_file(struct config *cfg, GPtrArray *errors)
{
    const char *what = config_get(cfg, "mta", "configuration");
    if (strcmp(what, "python:mailman.config.postfix") == 0 ||
        strcmp(what, "python:mailman.config.exim4") == 0)
        return 0;
    if (g_str_has_prefix(what, "python:") || !g_path_is_absolute(what)) {
        g_ptr_array_add(
            errors, g_strdup_printf("[mta] configuration: '%s' is neither "
                                    "python:mailman.config.postfix, python:mailman.config.exim4 "
                                    "nor an absolute path to a file",
                                    what));
        return -1;
    }
    char *text, *err;
    size_t len;
    if (fs_read_file(what, CONFIG_MAX_FILE, &text, &len, &err) < 0) {
        g_ptr_array_add(errors, g_strdup_printf("[mta] configuration: %s", err));
        g_free(err);
        return -1;
    }
    int rc = apply_file_text(cfg, text, len, what, true, errors);
    g_free(text);
    return rc;
}

/* Python's string.Template.safe_substitute over vars, plus extra. */
static char *expand_once(const char *text, GHashTable *vars, GHashTable *extra)
{
    GString *out = g_string_new(NULL);
    for (const char *p = text; *p;) {
        if (*p != '$') {
            g_string_append_c(out, *p++);
            continue;
        }
        if (p[1] == '$') {
            g_string_append_c(out, '$');
            p += 2;
            continue;
        }
        bool braced = p[1] == '{';
        const char *name = p + 1 + braced;
        size_t n = 0;
        if (g_ascii_isalpha(name[0]) || name[0] == '_')
            while (g_ascii_isalnum(name[n]) || name[n] == '_')
                n++;
        if (n == 0 || (braced && name[n] != '}')) {
            g_string_append_c(out, *p++);
            continue;
        }
        g_autofree char *key = g_strndup(name, n);
        g_autofree char *lower = g_ascii_strdown(key, -1);
        const char *val = extra ? g_hash_table_lookup(extra, key) : NULL;
        if (val == NULL)
            val = g_hash_table_lookup(vars, key);
        if (val == NULL && strcmp(key, lower) != 0)
            val = g_hash_table_lookup(vars, lower);
        size_t consumed = 1 + braced + n + braced;
        if (val == NULL)
            g_string_append_len(out, p, (gssize)consumed);
        else
            g_string_append(out, val);
        p += consumed;
    }
    return g_string_free(out, FALSE);
}

char *config_expand(const struct config *cfg, const char *text, GHashTable *extra)
{
    return expand_once(text, cfg->paths, extra);
}

/* posixpath.abspath: relative to the cwd, then normalised. */
static char *abspath(const char *path, const char *cwd)
{
    g_autofree char *full =
        g_path_is_absolute(path) ? g_strdup(path) : g_build_filename(cwd, path, NULL);
    g_auto(GStrv) parts = g_strsplit(full, "/", -1);
    GPtrArray *kept = g_ptr_array_new();
    for (char **p = parts; *p; p++) {
        if (**p == '\0' || strcmp(*p, ".") == 0)
            continue;
        if (strcmp(*p, "..") == 0) {
            if (kept->len > 0)
                g_ptr_array_remove_index(kept, kept->len - 1);
            continue;
        }
        g_ptr_array_add(kept, *p);
    }
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < kept->len; i++) {
        g_string_append_c(out, '/');
        g_string_append(out, kept->pdata[i]);
    }
    if (out->len == 0)
        g_string_append_c(out, '/');
    g_ptr_array_free(kept, TRUE);
    return g_string_free(out, FALSE);
}

static int expand_paths(struct config *cfg, const char *bin_dir, GPtrArray *errors)
{
    const char *layout = config_get(cfg, "mailman", "layout");
    g_autofree char *sect = g_strconcat("paths.", layout, NULL);
    if (!config_has_section(cfg, sect)) {
        g_ptr_array_add(errors, g_strdup_printf("No path configuration found: %s", sect));
        return -1;
    }
    g_autofree char *cwd = g_get_current_dir();
    GHashTable *v = cfg->paths;
    const char *env_var_dir = g_getenv("MAILMAN_VAR_DIR");
    g_hash_table_replace(v, g_strdup("cwd"), g_strdup(cwd));
    g_hash_table_replace(v, g_strdup("argv"), g_strdup(bin_dir));
    g_hash_table_replace(
        v, g_strdup("var_dir"),
        g_strdup(env_var_dir && *env_var_dir ? env_var_dir : config_lookup(cfg, sect, "var_dir")));
    g_hash_table_replace(v, g_strdup("template_dir"),
                         g_strdup(config_lookup(cfg, sect, "template_dir")));
    for (const char *const *n = path_dir_names; *n; n++)
        g_hash_table_replace(v, g_strdup(*n), g_strdup(config_lookup(cfg, sect, *n)));
    g_hash_table_replace(v, g_strdup("lock_file"), g_strdup(config_lookup(cfg, sect, "lock_file")));
    g_hash_table_replace(v, g_strdup("pid_file"), g_strdup(config_lookup(cfg, sect, "pid_file")));
    if (cfg->filename)
        g_hash_table_replace(v, g_strdup("cfg_file"), g_strdup(cfg->filename));

    /* Mailman's loop: substitute until no value has a '$' left; if a pass
     * leaves as many unexpanded values as the last one, it is a loop. */
    guint last_count = 0;
    for (;;) {
        GPtrArray *left = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(v), (GCompareFunc)strcmp);
        for (GList *k = keys; k; k = k->next) {
            char *val = expand_once(g_hash_table_lookup(v, k->data), v, NULL);
            if (strchr(val, '$'))
                g_ptr_array_add(left, g_strdup_printf("%s: %s", (char *)k->data, val));
            g_hash_table_replace(v, g_strdup(k->data), val);
        }
        guint count = left->len;
        if (count > 0 && count == last_count) {
            g_ptr_array_add(left, NULL);
            g_autofree char *list = g_strjoinv("; ", (char **)left->pdata);
            g_ptr_array_add(errors, g_strdup_printf("Path expansion infloop detected: %s", list));
            g_ptr_array_free(left, TRUE);
            return -1;
        }
        g_ptr_array_free(left, TRUE);
        if (count == 0)
            break;
        last_count = count;
    }
    g_autoptr(GList) keys = g_hash_table_get_keys(v);
    for (GList *k = keys; k; k = k->next)
        g_hash_table_replace(v, g_strdup(k->data), abspath(g_hash_table_lookup(v, k->data), cwd));
    return 0;
}

static int finish_load(struct config *cfg, const char *text, size_t len, const char *bin_dir,
                       struct config **cfg_r, char **error_r)
{
    GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
    if (text != NULL)
        apply_file_text(cfg, text, len, cfg->filename, false, errors);
    if (errors->len == 0)
        load_mta_file(cfg, errors);
    if (errors->len == 0)
        expand_paths(cfg, bin_dir, errors);
    if (errors->len > 0) {
        g_ptr_array_add(errors, NULL);
        *error_r = g_strjoinv("\n", (char **)errors->pdata);
        g_ptr_array_free(errors, TRUE);
        config_free(cfg);
        return -1;
    }
    g_ptr_array_free(errors, TRUE);
    *cfg_r = cfg;
    return 0;
}

int config_load_text(const char *text, const char *filename, const char *bin_dir,
                     struct config **cfg_r, char **error_r)
{
    struct config *cfg = config_new_defaults();
    cfg->filename = g_strdup(filename);
    return finish_load(cfg, text, strlen(text), bin_dir, cfg_r, error_r);
}

int config_load(const char *path, const char *bin_dir, struct config **cfg_r, char **error_r)
{
    struct config *cfg = config_new_defaults();
    if (path == NULL)
        return finish_load(cfg, NULL, 0, bin_dir, cfg_r, error_r);
    char *text;
    size_t len;
    if (fs_read_file(path, CONFIG_MAX_FILE, &text, &len, error_r) < 0) {
        config_free(cfg);
        return -1;
    }
    g_autofree char *cwd = g_get_current_dir();
    cfg->filename = abspath(path, cwd);
    int rc = finish_load(cfg, text, len, bin_dir, cfg_r, error_r);
    g_free(text);
    return rc;
}

int config_find(const char *explicit_path, const char *bin_dir, char **path_r, char **error_r)
{
    const char *env = g_getenv("MAILMAN_CONFIG_FILE");
    const char *given = explicit_path ? explicit_path : (env && *env ? env : NULL);
    if (given != NULL) {
        if (!g_file_test(given, G_FILE_TEST_EXISTS)) {
            *error_r = g_strdup_printf("Path '%s' does not exist.", given);
            return -1;
        }
        *path_r = g_strdup(given);
        return 1;
    }
    g_autofree char *home = g_build_filename(g_get_home_dir(), ".mailman.cfg", NULL);
    g_autofree char *near = g_build_filename(bin_dir, "..", "etc", "mailman.cfg", NULL);
    const char *candidates[] = {"mailman.cfg",      "var/etc/mailman.cfg",       home,
                                "/etc/mailman.cfg", "/etc/mailman3/mailman.cfg", near};
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (g_file_test(candidates[i], G_FILE_TEST_IS_REGULAR)) {
            *path_r = g_strdup(candidates[i]);
            return 1;
        }
    }
    *path_r = NULL;
    return 0;
}

const char *config_filename(const struct config *cfg)
{
    return cfg->filename;
}

const GPtrArray *config_warnings(const struct config *cfg)
{
    return cfg->warnings;
}

bool config_has_section(const struct config *cfg, const char *section)
{
    return section_find(cfg, section) != NULL;
}

const char *config_lookup(const struct config *cfg, const char *section, const char *key)
{
    struct config_section *s = section_find(cfg, section);
    struct config_value *v = s ? g_hash_table_lookup(s->keys, key) : NULL;
    return v ? v->value : NULL;
}

const char *config_get(const struct config *cfg, const char *section, const char *key)
{
    const char *v = config_lookup(cfg, section, key);
    if (v == NULL)
        log_panic("config_get: no key [%s] %s", section, key);
    return v;
}

bool config_get_bool(const struct config *cfg, const char *section, const char *key)
{
    bool b = false;
    if (!config_parse_bool(config_get(cfg, section, key), &b))
        log_panic("config_get_bool: [%s] %s is not a boolean", section, key);
    return b;
}

long long config_get_int(const struct config *cfg, const char *section, const char *key)
{
    return strtoll(config_get(cfg, section, key), NULL, 10);
}

double config_get_duration(const struct config *cfg, const char *section, const char *key)
{
    double d = 0;
    if (!config_parse_duration(config_get(cfg, section, key), &d))
        log_panic("config_get_duration: [%s] %s is not a duration", section, key);
    return d;
}

const char *config_path(const struct config *cfg, const char *name)
{
    const char *p = g_hash_table_lookup(cfg->paths, name);
    if (p == NULL)
        log_panic("config_path: no path %s", name);
    return p;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *config_section_names(const struct config *cfg)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, cfg->sections);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!((struct config_section *)v)->hidden)
            g_ptr_array_add(out, k);
    g_ptr_array_sort(out, cmp_str);
    return out;
}

GPtrArray *config_key_names(const struct config *cfg, const char *section)
{
    GPtrArray *out = g_ptr_array_new();
    struct config_section *s = section_find(cfg, section);
    if (s == NULL)
        return out;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->keys);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_ptr_array_add(out, k);
    g_ptr_array_sort(out, cmp_str);
    return out;
}

static const char etc_template[] =
    "# AUTOMATICALLY GENERATED BY MAILMAN ON %s UTC\n"
    "#\n"
    "# This is your GNU Mailman 3 configuration file.  You can edit this file to\n"
    "# configure Mailman to your needs, and Mailman will never overwrite it.\n"
    "# Additional configuration information is available here:\n"
    "#\n"
    "# https://mailman.readthedocs.io/en/latest/src/mailman/config/docs/config.html\n"
    "#\n"
    "# For example, uncomment the following lines to run Mailman in developer mode.\n"
    "#\n"
    "# [devmode]\n"
    "# enabled: yes\n"
    "# recipient: your.address@your.domain\n";

int config_ensure_dirs(const struct config *cfg, char **error_r)
{
    static const char *const dirs[] = {"var_dir", "template_dir", NULL};
    for (const char *const *n = dirs; *n; n++)
        if (fs_mkdirs(config_path(cfg, *n), 0755, error_r) < 0)
            return -1;
    for (const char *const *n = path_dir_names; *n; n++)
        if (fs_mkdirs(config_path(cfg, *n), 0755, error_r) < 0)
            return -1;
    g_autofree char *etc_cfg = g_build_filename(config_path(cfg, "etc_dir"), "mailman.cfg", NULL);
    if (fs_exists(etc_cfg))
        return 0;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    g_autofree char *text = g_strdup_printf(etc_template, stamp);
    return fs_write_atomic(etc_cfg, text, strlen(text), error_r);
}
