/* queue_admin - see queue_admin.h. */
#include "queue/queue_admin.h"

#include "lib/fsutil.h"
#include "queue/queue.h"
#include "queue/queue_file.h"
#include "queue/queue_recover.h"

#include <stdlib.h>
#include <string.h>

static void info_free(gpointer p)
{
    struct queue_admin_info *info = p;
    g_free(info->name);
    g_free(info->dir);
    if (info->bases != NULL)
        g_ptr_array_unref(info->bases);
    g_free(info);
}

int queue_admin_list_all(struct queue_root *root, GPtrArray **infos_r, char **error_r)
{
    g_autoptr(GPtrArray) names = queue_root_names(root);
    GPtrArray *infos = g_ptr_array_new_with_free_func(info_free);
    for (guint i = 0; i < names->len; i++) {
        struct queue *q;
        struct queue_admin_info *info = g_new0(struct queue_admin_info, 1);
        g_ptr_array_add(infos, info);
        if (queue_root_get(root, g_ptr_array_index(names, i), &q, error_r) < 0 ||
            queue_list(q, 1, 0, &info->bases, error_r) < 0) {
            g_ptr_array_unref(infos);
            return -1;
        }
        info->name = g_strdup(q->name);
        info->dir = g_strdup(q->dir);
    }
    *infos_r = infos;
    return 0;
}

int queue_admin_read(const char *path, struct queue_meta **meta_r, char **msg_r, size_t *msg_len_r,
                     char **error_r)
{
    char *data;
    size_t len, off;
    g_autofree char *why = NULL;
    if (fs_read_file(path, QUEUE_FILE_MAX_SIZE, &data, &len, error_r) < 0)
        return -1;
    if (queue_file_parse(data, len, meta_r, &off, &why) < 0) {
        g_free(data);
        *error_r = g_strdup_printf("%s: %s", path, why);
        return -1;
    }
    memmove(data, data + off, len - off + 1); /* keeps the terminating NUL */
    *msg_r = data;
    *msg_len_r = len - off;
    return 0;
}

/* A Python-style string literal of value, as pprint shows it. */
static void append_repr(GString *out, const char *value, size_t len)
{
    bool utf8 = g_utf8_validate(value, (gssize)len, NULL);
    /* Python quotes with " when that avoids escaping a '. */
    char quote = memchr(value, '\'', len) && !memchr(value, '"', len) ? '"' : '\'';
    g_string_append_c(out, quote);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c == '\\' || c == (unsigned char)quote)
            g_string_append_printf(out, "\\%c", c);
        else if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
            g_string_append_printf(out, "\\x%02x", c);
        else
            g_string_append_c(out, (char)c);
    }
    g_string_append_c(out, quote);
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

GString *queue_admin_dump(const struct queue_meta *meta, const char *msg, size_t msg_len)
{
    GString *out = g_string_sized_new(msg_len + 512);
    g_string_append(out, "[----- start pickle -----]\n<----- start object 1 ----->\n");
    g_string_append_len(out, msg, (gssize)msg_len);
    if (msg_len == 0 || msg[msg_len - 1] != '\n')
        g_string_append_c(out, '\n');
    g_string_append(out, "<----- start object 2 ----->\n{");
    size_t n = queue_meta_count(meta);
    const char **keys = g_new(const char *, n + 1);
    for (size_t i = 0; i < n; i++)
        keys[i] = queue_meta_nth(meta, i, NULL, NULL);
    qsort(keys, n, sizeof *keys, compare_keys);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *value = queue_meta_get_len(meta, keys[i], &len);
        /* pprint's indent=4 layout. */
        g_string_append(out, i == 0 ? "   " : ",\n    ");
        append_repr(out, keys[i], strlen(keys[i]));
        g_string_append(out, ": ");
        append_repr(out, value, len);
    }
    g_free(keys);
    g_string_append(out, "}\n[----- end pickle -----]\n");
    return out;
}

/* Moves one claimed shunt entry back; on failure it returns to shunt. */
static int unshunt_one(struct queue_root *root, struct queue_entry *e, bool discard, char **error_r)
{
    if (discard)
        return queue_finish(e, error_r);
    const char *which = queue_meta_get(e->meta, QUEUE_KEY_WHICHQ);
    struct queue *dest;
    int rc = -1;
    if (which == NULL || which[0] == '\0')
        which = "in";
    if (strcmp(which, "shunt") == 0 || strcmp(which, "bad") == 0)
        *error_r = g_strdup_printf("cannot unshunt to %s", which);
    else if (queue_root_get(root, which, &dest, error_r) == 0)
        rc = queue_requeue(e, dest, NULL, 0, NULL, error_r);
    g_autofree char *why = NULL;
    if (rc < 0 && !e->done && queue_release(e, &why) < 0) {
        /* Still a ".bak": the next unshunt recovers it. */
        char *both = g_strdup_printf("%s; %s", *error_r, why);
        g_free(*error_r);
        *error_r = both;
    }
    return rc;
}

int queue_admin_unshunt(struct queue_root *root, bool discard, struct queue_admin_unshunt *result,
                        char **error_r)
{
    struct queue *shunt;
    GPtrArray *bases;
    memset(result, 0, sizeof *result);
    if (queue_root_get(root, "shunt", &shunt, error_r) < 0 ||
        queue_recover(shunt, 1, 0, NULL, error_r) < 0 ||
        queue_list(shunt, 1, 0, &bases, error_r) < 0)
        return -1;
    result->failures = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < bases->len; i++) {
        const char *base = g_ptr_array_index(bases, i);
        struct queue_entry *e = NULL;
        g_autofree char *why = NULL;
        int rc = queue_claim(shunt, base, &e, &why);
        if (rc == 1)
            rc = unshunt_one(root, e, discard, &why) == 0 ? 1 : -1;
        queue_entry_free(e);
        if (rc == 1 && discard)
            result->discarded++;
        else if (rc == 1)
            result->moved++;
        else if (rc < 0)
            g_ptr_array_add(result->failures,
                            g_strdup_printf("Cannot unshunt message %s, skipping:\n%s", base, why));
    }
    g_ptr_array_unref(bases);
    return 0;
}

int queue_admin_inject(struct queue_root *root, const char *name, const struct queue_meta *meta,
                       const void *msg, size_t msg_len, char **base_r, char **error_r)
{
    struct queue *q;
    if (queue_root_get(root, name, &q, error_r) < 0)
        return -1;
    return queue_enqueue(q, meta, msg, msg_len, base_r, error_r);
}
