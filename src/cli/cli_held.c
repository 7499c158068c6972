/* cli_held - `crier held`: the posts held for moderation, and the
 * moderator's decisions on them (src/post/post_moderate.h). */
#include "cli/cli.h"
#include "cli/cli_verbs.h"

#include "config/config.h"
#include "post/post_moderate.h"
#include "queue/queue.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_id(struct cli *cli, const char *opt, const char *arg)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v <= 0 || v > G_MAXINT)
        cli_usage_error(cli, "Invalid value for '%s': '%s' is not a request id.", opt, arg);
    return (int)v;
}

int cli_held_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"accept", required_argument, NULL, 'a'},
                                         {"reject", required_argument, NULL, 'r'},
                                         {"discard", required_argument, NULL, 'd'},
                                         {"defer", required_argument, NULL, 'D'},
                                         {"reason", required_argument, NULL, 'R'},
                                         {"verbose", no_argument, NULL, 'v'},
                                         {0}};
    int decision = -1, id = 0;
    const char *reason = NULL;
    bool verbose = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "a:r:d:v", opts)) != -1) {
        const char *names[] = {
            ['a'] = "--accept", ['r'] = "--reject", ['d'] = "--discard", ['D'] = "--defer"};
        switch (c) {
        case 'a':
        case 'r':
        case 'd':
        case 'D':
            if (decision >= 0)
                cli_usage_error(cli, "Give one of --accept, --reject, --discard, --defer.");
            id = parse_id(cli, names[c], optarg);
            decision = c == 'a'   ? POST_DECIDE_ACCEPT
                       : c == 'r' ? POST_DECIDE_REJECT
                       : c == 'd' ? POST_DECIDE_DISCARD
                                  : POST_DECIDE_DEFER;
            break;
        case 'R':
            reason = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        }
    }
    static const char *const names[] = {"LISTSPEC", NULL};
    cli_want_args(cli, argc, argv, names);
    struct store_list *l = cli_need_list(cli, argv[optind]);
    struct store *st = cli_store(cli);
    struct config *cfg = cli_config(cli);
    char *err = NULL;
    if (decision >= 0) {
        struct queue_root *root = queue_root_new(config_path(cfg, "queue_dir"));
        int rc = post_moderate(st, cfg, root, l, id, (enum post_decision)decision, reason, &err);
        queue_root_free(root);
        if (rc < 0)
            cli_fail(1, "%s", err);
        if (rc == 0)
            cli_fail(1, "No held message %d for %s", id, l->fqdn_listname);
        store_list_free(l);
        return 0;
    }
    GPtrArray *v = NULL;
    if (post_held_list(st, l->list_id, &v, &err) < 0)
        cli_fail(1, "%s", err);
    if (v->len == 0)
        printf("%s has no held messages\n", l->list_id);
    for (guint i = 0; i < v->len; i++) {
        struct post_held *h = v->pdata[i];
        printf("%d\t%s\t%s\t%s\t%s\t%s\n", h->id, h->hold_date ? h->hold_date : "",
               h->sender ? h->sender : "", h->message_id, h->subject ? h->subject : "",
               h->reason ? h->reason : "");
        if (verbose) {
            struct post_held *full = NULL;
            if (post_held_get(st, cfg, l->list_id, h->id, &full, &err) < 0)
                cli_fail(1, "%s", err);
            if (full)
                fwrite(full->msg, 1, full->msg_len, stdout);
            printf("\n");
            post_held_free(full);
        }
    }
    g_ptr_array_unref(v);
    store_list_free(l);
    return 0;
}
