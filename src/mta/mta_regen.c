/* mta_regen - see mta_regen.h. */
#include "mta/mta_regen.h"

#include "config/config.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

struct mta_settings mta_regen_settings(const struct config *cfg)
{
    return (struct mta_settings){
        .lmtp_host = config_get(cfg, "mta", "lmtp_host"),
        .lmtp_port = (unsigned)config_get_int(cfg, "mta", "lmtp_port"),
        .postmap_command = config_get(cfg, "postfix", "postmap_command"),
        .regex =
            g_ascii_strcasecmp(config_get(cfg, "postfix", "transport_file_type"), "regex") == 0,
    };
}

/* The maps from every list's posting address and its alias domain. */
static int write_maps(const struct config *cfg, struct store *st, const char *dir, char **error_r)
{
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
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    struct mta_settings s = mta_regen_settings(cfg);
    int rc = mta_postfix_write(&s, dir ? dir : config_path(cfg, "data_dir"), v, n, stamp, error_r);
    g_free(v);
    g_strfreev(names);
    g_strfreev(aliases);
    return rc;
}

int mta_regen(const struct config *cfg, struct store *st, const char *dir, char **error_r)
{
    if (mta_kind_of(config_get(cfg, "mta", "incoming")) != MTA_POSTFIX)
        return 0;
    /* Mailman's lock: one writer of the maps at a time. */
    g_autofree char *lock_path = g_build_filename(config_path(cfg, "lock_dir"), "mta", NULL);
    int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        *error_r = g_strdup_printf("cannot lock %s: %s", lock_path, g_strerror(errno));
        if (lock >= 0)
            close(lock);
        return -1;
    }
    int rc = write_maps(cfg, st, dir, error_r);
    close(lock);
    return rc;
}
