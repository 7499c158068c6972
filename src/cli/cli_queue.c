/* cli_queue - qfile, unshunt and inject: Mailman's queue verbs over
 * queue/queue_admin.h. */
#include "cli/cli_verbs.h"

#include "config/config.h"
#include "queue/queue_admin.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

int cli_qfile_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"print", no_argument, NULL, 'p'},
                                         {"no-print", no_argument, NULL, 'n'},
                                         {"interactive", no_argument, NULL, 'i'},
                                         {0}};
    bool doprint = true, interactive = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "pni", opts)) != -1) {
        if (c == 'p')
            doprint = true;
        else if (c == 'n')
            doprint = false;
        else if (c == 'i')
            interactive = true;
    }
    static const char *const names[] = {"QFILE", NULL};
    cli_want_args(cli, argc, argv, names);
    const char *path = argv[optind];
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        cli_usage_error(cli, "Invalid value for 'QFILE': Path '%s' does not exist.", path);
    struct queue_meta *meta;
    char *msg, *err;
    size_t len;
    if (queue_admin_read(path, &meta, &msg, &len, &err) < 0)
        cli_fail(1, "%s", err);
    if (doprint) {
        GString *out = queue_admin_dump(meta, msg, len);
        fwrite(out->str, 1, out->len, stdout);
        g_string_free(out, TRUE);
    }
    if (interactive)
        printf("Number of objects found (see the variable 'm'): 2\n"
               "(crier has no Python shell; -i only prints this count)\n");
    queue_meta_free(meta);
    g_free(msg);
    return 0;
}

int cli_unshunt_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"discard", no_argument, NULL, 'd'}, {0}};
    bool discard = false;
    while (cli_getopt(cli, argc, argv, "d", opts) != -1)
        discard = true;
    cli_want_args(cli, argc, argv, NULL);
    struct config *cfg = cli_config(cli);
    struct queue_root *root = queue_root_new(config_path(cfg, "queue_dir"));
    struct queue_admin_unshunt result = {0};
    char *err;
    int rc = 0;
    if (queue_admin_unshunt(root, discard, &result, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err);
        g_free(err);
        rc = 1;
    } else {
        for (guint i = 0; i < result.failures->len; i++)
            fprintf(stderr, "%s\n", (char *)result.failures->pdata[i]);
        g_ptr_array_unref(result.failures);
    }
    queue_root_free(root);
    return rc;
}
