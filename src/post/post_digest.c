/* post_digest - see post_digest.h. */
#include "post/post_digest.h"

#include "config/config.h"
#include "queue/queue.h"
#include "store/store.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>

/* Whether now starts a new volume after last, by Mailman's rules (its
 * quarters are (month - 1) // 4, and its weeks ISO weeks of the calendar
 * year: both kept as they are). */
static bool new_volume(int64_t frequency, GDateTime *now, GDateTime *last)
{
    int ny = g_date_time_get_year(now), ly = g_date_time_get_year(last);
    int nm = g_date_time_get_month(now), lm = g_date_time_get_month(last);
    switch (frequency) {
    case 0: /* yearly */
        return ny > ly;
    case 1: /* monthly */
        return ny * 100 + nm > ly * 100 + lm;
    case 2: /* quarterly */
        return ny * 100 + (nm - 1) / 4 > ly * 100 + (lm - 1) / 4;
    case 3: /* weekly */
        return ny * 100 + g_date_time_get_week_of_year(now) >
               ly * 100 + g_date_time_get_week_of_year(last);
    default: /* daily */
        return ny * 1000 + g_date_time_get_day_of_year(now) >
               ly * 1000 + g_date_time_get_day_of_year(last);
    }
}

int post_digest_bump(struct store *st, const struct store_list *l, char **error_r)
{
    GDateTime *now = g_date_time_new_now_utc();
    int64_t last_us = store_list_attr_int(l, "digest_last_sent_at");
    bool bump = false;
    if (last_us != 0) {
        GDateTime *last = g_date_time_new_from_unix_utc(last_us / G_USEC_PER_SEC);
        bump = new_volume(store_list_attr_int(l, "digest_volume_frequency"), now, last);
        g_date_time_unref(last);
    }
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%f");
    g_date_time_unref(now);
    int rc;
    if (bump)
        rc = store_list_attr_add(st, l->list_id, "volume", 1, NULL, error_r) < 0 ||
                     store_list_set_attr_internal(st, l->list_id, "next_digest_number", "1",
                                                  error_r) < 0
                 ? -1
                 : 0;
    else
        rc = store_list_attr_add(st, l->list_id, "next_digest_number", 1, NULL, error_r);
    if (rc < 0)
        return -1;
    return store_list_set_attr_internal(st, l->list_id, "digest_last_sent_at", ts, error_r) < 0 ? -1
                                                                                                : 0;
}

int post_digest_send(struct config *cfg, struct store *st, const struct store_list *l, bool force,
                     post_digest_enqueue enqueue, void *ud, bool *sent_r, char **error_r)
{
    if (sent_r != NULL)
        *sent_r = false;
    g_autofree char *dir = g_build_filename(config_path(cfg, "list_data_dir"), l->list_id, NULL);
    g_autofree char *mbox = g_build_filename(dir, "digest.mmdf", NULL);
    GStatBuf sb;
    if (g_stat(mbox, &sb) < 0) {
        if (errno == ENOENT)
            return 0;
        *error_r = g_strdup_printf("cannot stat %s: %s", mbox, g_strerror(errno));
        return -1;
    }
    double threshold = g_ascii_strtod(store_list_attr(l, "digest_size_threshold"), NULL);
    bool full = threshold > 0 && (double)sb.st_size >= threshold * 1024;
    if (!full && !(force && sb.st_size > 0))
        return 0;
    int64_t volume = store_list_attr_int(l, "volume");
    int64_t number = store_list_attr_int(l, "next_digest_number");
    g_autofree char *name = g_strdup_printf("digest.%" PRId64 ".%" PRId64 ".mmdf", volume, number);
    g_autofree char *dest = g_build_filename(dir, name, NULL);
    if (rename(mbox, dest) < 0) {
        *error_r = g_strdup_printf("cannot rename %s: %s", mbox, g_strerror(errno));
        return -1;
    }
    if (post_digest_bump(st, l, error_r) < 0)
        return -1;
    struct queue_meta *m = queue_meta_new();
    queue_meta_set(m, "listid", l->list_id);
    queue_meta_set(m, "digest_path", dest);
    g_autofree char *v = g_strdup_printf("%" PRId64, volume);
    g_autofree char *n = g_strdup_printf("%" PRId64, number);
    queue_meta_set(m, "volume", v);
    queue_meta_set(m, "digest_number", n);
    /* Mailman queues an empty message with this metadata */
    static const char empty[] = "\n";
    int rc = enqueue(ud, "digest", m, empty, sizeof empty - 1, error_r);
    queue_meta_free(m);
    if (rc == 0 && sent_r != NULL)
        *sent_r = true;
    return rc;
}
