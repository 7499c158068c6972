/* runner_archive - Mailman's ArchiveRunner: each archived post goes to the
 * archivers enabled in [archiver.*]. crier carries out Mailman's
 * "prototype" archiver (a Maildir per list under archive_dir/prototype);
 * for the others (HyperKitty, MHonArc, mail-archive.com) it says once, in
 * mailman.log, that it cannot, and the entry is done. */
#include "runner/runner_post.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "queue/queue.h"
#include "runner/runner.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>
#include <unistd.h>

static GHashTable *warned; /* archiver sections already reported */

/* Mailman's Prototype archiver: Maildir archive_dir/prototype/<fqdn>. */
static int prototype(struct runner *r, const struct store_list *l, const struct queue_entry *e,
                     char **error_r)
{
    g_autofree char *box =
        g_build_filename(config_path(r->cfg, "archive_dir"), "prototype", l->fqdn_listname, NULL);
    g_autofree char *tmp = g_build_filename(box, "tmp", NULL);
    g_autofree char *cur = g_build_filename(box, "cur", NULL);
    g_autofree char *new_ = g_build_filename(box, "new", NULL);
    if (fs_mkdirs(tmp, 0750, error_r) < 0 || fs_mkdirs(cur, 0750, error_r) < 0 ||
        fs_mkdirs(new_, 0750, error_r) < 0)
        return -1;
    g_autofree char *name =
        g_strdup_printf("%" G_GINT64_FORMAT ".M%uP%d.%s", g_get_real_time() / 1000000,
                        g_random_int(), (int)getpid(), g_get_host_name());
    g_autofree char *path = g_build_filename(new_, name, NULL);
    return fs_write_atomic(path, e->msg, e->msg_len, error_r);
}

int runner_archive_handle(struct runner *r, struct queue_entry *e, char **error_r)
{
    struct store *st = runner_post_store(r);
    const char *listid = queue_meta_get(e->meta, "listid");
    struct store_list *l = NULL;
    if (listid && store_list_get(st, listid, &l, error_r) < 0) /* busy: retry later */
        return store_error_temporary(st) ? RUNNER_RETRY : -1;
    if (l == NULL)
        return queue_finish(e, error_r);
    if (warned == NULL)
        warned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *sections = config_section_names(r->cfg);
    int rc = 0;
    for (guint i = 0; i < sections->len && rc == 0; i++) {
        const char *sec = sections->pdata[i];
        if (!g_str_has_prefix(sec, "archiver.") || strcmp(sec, "archiver.master") == 0 ||
            !config_get_bool(r->cfg, sec, "enable"))
            continue;
        const char *cls = config_get(r->cfg, sec, "class");
        if (g_str_has_suffix(cls, ".Prototype")) {
            bool on = true; /* the list's switch (REST /lists/<l>/archivers) */
            if (store_archiver_get(st, l->list_id, "prototype", &on, error_r) < 0)
                rc = -1;
            else if (on)
                rc = prototype(r, l, e, error_r);
        } else if (g_hash_table_add(warned, g_strdup(sec))) {
            log_error("archive: [%s] (%s) is enabled but crier cannot run that archiver; "
                      "posts are not archived by it",
                      sec, cls);
        }
    }
    g_ptr_array_unref(sections);
    store_list_free(l);
    return rc < 0 ? -1 : queue_finish(e, error_r);
}
