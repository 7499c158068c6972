/* cli_queue - qfile, unshunt and inject: Mailman's queue verbs over
 * queue/queue_admin.h. */
#include "cli/cli_verbs.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "lmtp/lmtp_intake.h"
#include "store/store.h"
#include "queue/queue_admin.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>

/* The largest message inject reads (Mailman's LMTP SIZE). */
#define CLI_INJECT_MAX (32L * 1024 * 1024)

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

/* Mailman's inject_message(): Message-ID if missing, the hash headers, a
 * Date if missing; metadata listid, original_size and -m KEY=VALUE. */
int cli_inject_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"queue", required_argument, NULL, 'q'},
                                         {"show", no_argument, NULL, 's'},
                                         {"filename", required_argument, NULL, 'f'},
                                         {"metadata", required_argument, NULL, 'm'},
                                         {0}};
    const char *queue = "in", *file = NULL;
    bool show = false;
    g_autoptr(GPtrArray) kvs = g_ptr_array_new();
    int c;
    while ((c = cli_getopt(cli, argc, argv, "q:sf:m:", opts)) != -1) {
        if (c == 'q')
            queue = optarg;
        else if (c == 's')
            show = true;
        else if (c == 'f')
            file = optarg;
        else if (c == 'm')
            g_ptr_array_add(kvs, optarg);
    }
    struct config *cfg = cli_config(cli);
    struct queue_root *root = queue_root_new(config_path(cfg, "queue_dir"));
    if (show) {
        /* Mailman: "Available queues are:" then the names. */
        GPtrArray *names = queue_root_names(root);
        printf("Available queues are:\n");
        for (guint i = 0; i < names->len; i++)
            printf("    %s\n", (char *)names->pdata[i]);
        g_ptr_array_unref(names);
        queue_root_free(root);
        return 0;
    }
    static const char *const names[] = {"LISTSPEC", NULL};
    cli_want_args(cli, argc, argv, names);
    struct store_list *l = cli_need_list(cli, argv[optind]);
    char *err = NULL;
    int rc;
    if (!queue_root_known(root, queue))
        cli_usage_error(cli, "No such queue: %s", queue);
    char *text = NULL;
    size_t len = 0;
    if (fs_read_file(file && strcmp(file, "-") != 0 ? file : "/dev/stdin", CLI_INJECT_MAX, &text,
                     &len, &err) < 0)
        cli_usage_error(cli, "Invalid value for '-f' / '--filename': %s", err);
    GByteArray *msg = NULL;
    char hash[MSGID_HASH_LEN + 1];
    const char *why = NULL;
    if (lmtp_intake_prepare_ex(text, len, NULL, g_get_host_name(), true, &msg, hash, &why) < 0)
        cli_fail(1, "cannot inject the message: %s", why);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", l->list_id);
    queue_meta_set_uint(meta, "original_size", msg->len);
    for (guint i = 0; i < kvs->len; i++) {
        const char *kv = kvs->pdata[i];
        const char *eq = strchr(kv, '=');
        g_autofree char *key = eq ? g_strndup(kv, (gsize)(eq - kv)) : g_strdup(kv);
        if (!queue_meta_key_valid(key))
            cli_usage_error(cli, "Invalid value for '-m' / '--metadata': bad key '%s'", key);
        queue_meta_set(meta, key, eq ? eq + 1 : "");
    }
    rc = 0;
    if (queue_admin_inject(root, queue, meta, msg->data, msg->len, NULL, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err);
        g_free(err);
        rc = 1;
    }
    queue_meta_free(meta);
    g_byte_array_unref(msg);
    g_free(text);
    store_list_free(l);
    queue_root_free(root);
    return rc;
}
