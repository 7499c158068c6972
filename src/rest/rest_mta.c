/* rest_mta - see rest_mta.h. */
#include "rest/rest_mta.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "mta/mta_regen.h"

#include <glib.h>

int rest_mta_regenerate(struct config *cfg, struct store *st, char **error_r)
{
    return mta_regen(cfg, st, NULL, error_r);
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
