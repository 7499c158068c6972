/* post_mime - Mailman's mime-delete handler (content filtering) with GMime:
 * filter_types/pass_types, filter_extensions/pass_extensions,
 * collapse_alternatives, single-part multiparts recast. See post.h. */
#include "post/post.h"

#include "config/config.h"
#include "lib/log.h"
#include "store/store.h"

#include <gmime/gmime.h>
#include <string.h>
#include <unistd.h>

struct filt {
    GHashTable *ftypes, *ptypes, *fexts, *pexts;
};

static GHashTable *set_of(const struct store_list *l, const char *attr)
{
    GHashTable *s = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_auto(GStrv) v = store_list_attr_strv(l, attr);
    for (char **p = v; p && *p; p++) {
        g_autofree char *t = g_strstrip(g_ascii_strdown(*p, -1));
        if (*t)
            g_hash_table_add(s, g_steal_pointer(&t));
    }
    return s;
}

static char *ctype_of(GMimeObject *o, char **mtype_r)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
    const char *s = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;
    *mtype_r = g_ascii_strdown(t ? t : "text", -1);
    return g_strdup_printf("%s/%s", *mtype_r, s ? s : "plain");
}

static char *file_ext(GMimeObject *o)
{
    const char *name = GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o)) : NULL;
    if (name == NULL)
        name = g_mime_object_get_content_type_parameter(o, "name");
    const char *dot = name ? strrchr(name, '.') : NULL;
    const char *slash = name ? strrchr(name, '/') : NULL;
    if (dot == NULL || dot[1] == '\0' || (slash && slash > dot) || dot == name)
        return NULL;
    return g_ascii_strdown(dot + 1, -1);
}

/* Why o may not pass, or NULL. */
static const char *blocked(const struct filt *f, GMimeObject *o)
{
    g_autofree char *mtype = NULL;
    g_autofree char *ctype = ctype_of(o, &mtype);
    if (g_hash_table_contains(f->ftypes, ctype) || g_hash_table_contains(f->ftypes, mtype))
        return "The message's content type was explicitly disallowed";
    if (g_hash_table_size(f->ptypes) && !g_hash_table_contains(f->ptypes, ctype) &&
        !g_hash_table_contains(f->ptypes, mtype))
        return "The message's content type was not explicitly allowed";
    g_autofree char *ext = file_ext(o);
    if (ext && g_hash_table_contains(f->fexts, ext))
        return "The message's file extension was explicitly disallowed";
    if (ext && g_hash_table_size(f->pexts) && !g_hash_table_contains(f->pexts, ext))
        return "The message's file extension was not explicitly allowed";
    return NULL;
}

/* Drops the blocked parts below o; false when a multipart was emptied. */
static bool filter_parts(const struct filt *f, GMimeObject *o)
{
    if (!GMIME_IS_MULTIPART(o))
        return true;
    GMimeMultipart *mp = GMIME_MULTIPART(o);
    int pre = g_mime_multipart_get_count(mp);
    for (int i = pre - 1; i >= 0; i--) {
        GMimeObject *sub = g_mime_multipart_get_part(mp, i);
        if (!filter_parts(f, sub) || blocked(f, sub))
            g_mime_multipart_remove_at(mp, i);
    }
    return !(pre > 0 && g_mime_multipart_get_count(mp) == 0);
}

static bool is_type(GMimeObject *o, const char *type, const char *subtype)
{
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct && g_mime_content_type_is_type(ct, type, subtype);
}

static void collapse(GMimeObject *o)
{
    if (!GMIME_IS_MULTIPART(o))
        return;
    GMimeMultipart *mp = GMIME_MULTIPART(o);
    for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
        GMimeObject *sub = g_mime_multipart_get_part(mp, i);
        if (is_type(sub, "multipart", "alternative") && GMIME_IS_MULTIPART(sub) &&
            g_mime_multipart_get_count(GMIME_MULTIPART(sub)) > 0) {
            GMimeObject *first = g_mime_multipart_get_part(GMIME_MULTIPART(sub), 0);
            g_object_ref(first);
            g_mime_multipart_replace(mp, i, first);
            g_object_unref(first);
        } else {
            collapse(sub);
        }
    }
}

/* A multipart left with one part becomes that part (not multipart/signed). */
static GMimeObject *recast(GMimeObject *o)
{
    while (GMIME_IS_MULTIPART(o) && !is_type(o, "multipart", "signed") &&
           g_mime_multipart_get_count(GMIME_MULTIPART(o)) == 1)
        o = g_mime_multipart_get_part(GMIME_MULTIPART(o), 0);
    if (GMIME_IS_MULTIPART(o) && !is_type(o, "multipart", "signed")) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
            GMimeObject *sub = g_mime_multipart_get_part(mp, i);
            GMimeObject *r = recast(sub);
            if (r != sub) {
                g_object_ref(r);
                g_mime_multipart_replace(mp, i, r);
                g_object_unref(r);
            }
        }
    }
    return o;
}

static int count_parts(GMimeObject *o)
{
    int n = 1;
    if (GMIME_IS_MULTIPART(o))
        for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(o)); i++)
            n += count_parts(g_mime_multipart_get_part(GMIME_MULTIPART(o), i));
    return n;
}

/* convert_html_to_plaintext: every text/html part through [mailman]
 * html_to_plain_text_command ($filename substituted, split on white space,
 * no shell, as Mailman); the output replaces it as text/plain. */
struct html_ctx {
    const char *command;
    char *dir;
    int n, changed;
};

static void html_part(GMimeObject *parent, GMimeObject *part, gpointer ud)
{
    struct html_ctx *h = ud;
    if (!GMIME_IS_TEXT_PART(part) || !is_type(part, "text", "html"))
        return;
    g_autofree char *html = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
    g_autofree char *file = g_strdup_printf("%s/%d.html", h->dir, h->n++);
    if (!g_file_set_contents(file, html ? html : "", -1, NULL))
        return;
    GHashTable *vars = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(vars, "filename", file);
    g_autofree char *cmd = post_substitute(h->command, vars);
    g_hash_table_unref(vars);
    g_auto(GStrv) argv = g_strsplit_set(g_strstrip(cmd), " \t\n", -1);
    GPtrArray *args = g_ptr_array_new();
    for (char **a = argv; *a; a++)
        if (**a)
            g_ptr_array_add(args, *a);
    g_ptr_array_add(args, NULL);
    g_autofree char *out = NULL;
    int status = 0;
    GError *err = NULL;
    bool ok = args->len > 1 &&
              g_spawn_sync(NULL, (char **)args->pdata, NULL,
                           G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_CLOEXEC_PIPES, NULL, NULL, &out,
                           NULL, &status, &err) &&
              g_spawn_check_wait_status(status, &err);
    g_ptr_array_unref(args);
    unlink(file);
    if (!ok) {
        log_error("HTML -> text/plain command error: %s", err ? err->message : cmd);
        g_clear_error(&err);
        return;
    }
    if (!g_utf8_validate(out, -1, NULL)) {
        char *v = g_utf8_make_valid(out, -1);
        g_free(out);
        out = v;
    }
    g_mime_content_type_set_media_subtype(g_mime_object_get_content_type(part), "plain");
    g_mime_text_part_set_text(GMIME_TEXT_PART(part), out);
    h->changed++;
}

static int to_plaintext(struct post_ctx *c, GMimeMessage *msg)
{
    struct html_ctx h = {config_get(c->cfg, "mailman", "html_to_plain_text_command"),
                         g_dir_make_tmp("crier-html-XXXXXX", NULL), 0, 0};
    if (h.dir == NULL)
        return 0;
    GMimeObject *body = g_mime_message_get_mime_part(msg);
    if (body && !GMIME_IS_MULTIPART(body))
        html_part(NULL, body, &h);
    else
        g_mime_message_foreach(msg, html_part, &h);
    rmdir(h.dir);
    g_free(h.dir);
    return h.changed;
}

static void set_body(GMimeMessage *msg, GMimeObject *body)
{
    g_object_ref(body);
    g_mime_message_set_mime_part(msg, body);
    g_object_unref(body);
}

const char *post_mime_delete(struct post_ctx *c)
{
    if (!store_list_attr_bool(c->list, "filter_content"))
        return NULL;
    struct filt f = {set_of(c->list, "filter_types"), set_of(c->list, "pass_types"),
                     set_of(c->list, "filter_extensions"), set_of(c->list, "pass_extensions")};
    GMimeMessage *msg = pmsg_to_gmime(c->msg);
    const char *why = NULL;
    GMimeObject *body = msg ? g_mime_message_get_mime_part(msg) : NULL;
    if (body == NULL)
        goto out;
    why = blocked(&f, body);
    if (why)
        goto out;
    int before = count_parts(body);
    if (GMIME_IS_MULTIPART(body) && !filter_parts(&f, body)) {
        why = "After content filtering, the message was empty";
        goto out;
    }
    if (store_list_attr_bool(c->list, "collapse_alternatives")) {
        collapse(body);
        if (is_type(body, "multipart", "alternative") && GMIME_IS_MULTIPART(body) &&
            g_mime_multipart_get_count(GMIME_MULTIPART(body)) > 0) {
            set_body(msg, g_mime_multipart_get_part(GMIME_MULTIPART(body), 0));
            body = g_mime_message_get_mime_part(msg);
        }
    }
    GMimeObject *r = recast(body);
    if (r != body) {
        set_body(msg, r);
        body = g_mime_message_get_mime_part(msg);
    }
    bool changed = count_parts(body) != before;
    if (store_list_attr_bool(c->list, "convert_html_to_plaintext") && to_plaintext(c, msg) > 0)
        changed = true;
    if (changed) {
        post_gmime_put_back(c->msg, msg);
        pmsg_append(c->msg, "X-Content-Filtered-By", "Mailman/MimeDel 3.3.8");
    }
out:
    if (msg)
        g_object_unref(msg);
    g_hash_table_unref(f.ftypes);
    g_hash_table_unref(f.ptypes);
    g_hash_table_unref(f.fexts);
    g_hash_table_unref(f.pexts);
    return why;
}
