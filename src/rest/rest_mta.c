/* rest_mta - see rest_mta.h. */
#include "rest/rest_mta.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "mta/mta.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

int rest_mta_regenerate(struct config *cfg, struct store *st, char **error_r)
{
    if (mta_kind_of(config_get(cfg, "mta", "incoming")) != MTA_POSTFIX)
        return 0;
    /* One query gives every posting address with its alias domain. */
    char **names = NULL, **aliases = NULL;
    if (store_list_names(st, &names, &aliases, error_r) < 0)
        return -1;
    size_t n = g_strv_length(names);
    struct mta_list *v = g_new0(struct mta_list, n + 1);
    for (size_t i = 0; i < n; i++) {
        char *at = strchr(names[i], '@');
        *at = '\0';
        v[i] = (struct mta_list){names[i], at + 1, aliases[i]};
    }
    const struct mta_settings set = {
        .lmtp_host = config_get(cfg, "mta", "lmtp_host"),
        .lmtp_port = (unsigned)config_get_int(cfg, "mta", "lmtp_port"),
        .postmap_command = config_get(cfg, "postfix", "postmap_command"),
        .regex =
            g_ascii_strcasecmp(config_get(cfg, "postfix", "transport_file_type"), "regex") == 0,
    };
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
    g_autofree char *lock_path = g_build_filename(config_path(cfg, "lock_dir"), "mta", NULL);
    int rc = -1;
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || flock(lock, LOCK_EX) != 0)
        *error_r = g_strdup_printf("cannot lock %s: %s", lock_path, g_strerror(errno));
    else
        rc = mta_postfix_write(&set, config_path(cfg, "data_dir"), v, n, stamp, error_r);
    if (lock >= 0)
        close(lock);
    g_free(v);
    g_strfreev(names);
    g_strfreev(aliases);
    return rc;
}

int rest_mta_list_created(struct config *cfg, struct store *st, const char *list_id, char **error_r)
{
    g_autofree char *dir = g_build_filename(config_path(cfg, "list_data_dir"), list_id, NULL);
    if (fs_mkdirs(dir, 0755, error_r) < 0)
        return -1;
    return rest_mta_regenerate(cfg, st, error_r);
}

int rest_mta_list_removed(struct config *cfg, struct store *st, const char *list_id, char **error_r)
{
    g_autofree char *dir = g_build_filename(config_path(cfg, "list_data_dir"), list_id, NULL);
    if (fs_remove_tree(dir, error_r) < 0)
        return -1;
    return rest_mta_regenerate(cfg, st, error_r);
}
