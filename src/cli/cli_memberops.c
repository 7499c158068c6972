/* cli_memberops - addmembers, delmembers and syncmembers: member files
 * applied with the store's bulk calls, progress shown on a terminal. */
#include "cli/cli_verbs.h"

#include "cli/cli_memberfile.h"
#include "config/config.h"
#include "queue/queue.h"
#include "workflow/workflow.h"
#include "workflow/workflow_mail.h"
#include "store/store.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Members added per bulk call (each its own transaction): bounds memory and
 * lets a terminal show progress. */
#define MEMBEROPS_CHUNK 5000

static void progress(const char *what, size_t done, size_t total)
{
    if (total >= MEMBEROPS_CHUNK && isatty(2))
        fprintf(stderr, "\r%s %zu/%zu", what, done, total);
}

static void progress_end(size_t total)
{
    if (total >= MEMBEROPS_CHUNK && isatty(2))
        fputc('\n', stderr);
}

struct delivery_choice {
    int mode, status;
};

static struct delivery_choice parse_delivery(struct cli *cli, const char *d)
{
    static const struct {
        const char *name;
        struct delivery_choice c;
    } choices[] = {
        {"regular", {STORE_DELIVERY_REGULAR, STORE_DELIVERY_ENABLED}},
        {"mime", {STORE_DELIVERY_MIME_DIGESTS, STORE_DELIVERY_ENABLED}},
        {"plain", {STORE_DELIVERY_PLAINTEXT_DIGESTS, STORE_DELIVERY_ENABLED}},
        {"summary", {STORE_DELIVERY_SUMMARY_DIGESTS, STORE_DELIVERY_ENABLED}},
        {"disabled", {STORE_DELIVERY_REGULAR, STORE_DELIVERY_BY_MODERATOR}},
    };
    if (d == NULL)
        return choices[0].c;
    for (size_t i = 0; i < G_N_ELEMENTS(choices); i++)
        if (strcmp(choices[i].name, d) == 0)
            return choices[i].c;
    cli_usage_error(cli,
                    "Invalid value for '--delivery' / '-d': '%s' is not one of 'regular', "
                    "'mime', 'plain', 'summary', 'disabled'.",
                    d);
}

/* Adds entries (of struct memberfile_entry) as members; skips banned ones
 * and reports those already subscribed. Returns how many were added. */
static size_t add_entries(struct cli *cli, const struct store_list *l, GPtrArray *entries,
                          struct delivery_choice dc, GPtrArray *added_r)
{
    struct store *st = cli_store(cli);
    char *err = NULL;
    size_t added = 0, n = entries->len;
    struct store_member_spec *specs = g_new0(struct store_member_spec, MEMBEROPS_CHUNK);
    int *results = g_new0(int, MEMBEROPS_CHUNK);
    struct memberfile_entry **batch = g_new0(struct memberfile_entry *, MEMBEROPS_CHUNK);
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        for (; i < n && k < MEMBEROPS_CHUNK; i++) {
            struct memberfile_entry *e = entries->pdata[i];
            int banned = store_ban_is_banned(st, l->list_id, e->email, &err);
            if (banned < 0)
                cli_fail(1, "%s", err);
            if (banned) {
                g_autofree char *f = memberfile_format(e->display_name, e->email);
                fprintf(stderr, "Membership is banned (skipping): %s\n", f);
                continue;
            }
            specs[k] = (struct store_member_spec){e->email, e->display_name, STORE_ROLE_MEMBER,
                                                  dc.mode, dc.status};
            batch[k++] = e;
        }
        if (store_member_add_bulk(st, l->list_id, specs, k, results, &err) < 0)
            cli_fail(1, "%s", err);
        for (size_t j = 0; j < k; j++) {
            if (results[j] == 0) {
                added++;
                if (added_r)
                    g_ptr_array_add(added_r, batch[j]);
                continue;
            }
            g_autofree char *f = memberfile_format(batch[j]->display_name, batch[j]->email);
            fprintf(stderr, "%s (skipping): %s\n",
                    results[j] == STORE_EXISTS ? "Already subscribed"
                                               : "Cannot parse as valid email address",
                    f);
        }
        progress("added", i, n);
    }
    progress_end(n);
    g_free(specs);
    g_free(results);
    g_free(batch);
    return added;
}

/* -i: each address is invited through the subscription workflow (an
 * invitation mail with a token), as Mailman's addmembers --invite. */
static void invite_entries(struct cli *cli, const struct store_list *l, GPtrArray *entries,
                           struct workflow_ctx *w)
{
    for (guint i = 0; i < entries->len; i++) {
        struct memberfile_entry *e = entries->pdata[i];
        struct workflow_subscribe_opts o = WORKFLOW_SUBSCRIBE_OPTS_INIT;
        o.display_name = e->display_name;
        o.invitation = true;
        struct workflow_result res = {0};
        char *err = NULL;
        int rc = workflow_subscribe(w, l, e->email, &o, &res, &err);
        g_autofree char *f = memberfile_format(e->display_name, e->email);
        if (rc == WORKFLOW_ALREADY_MEMBER)
            fprintf(stderr, "Already subscribed (skipping): %s\n", f);
        else if (rc == WORKFLOW_BANNED)
            fprintf(stderr, "Membership is banned (skipping): %s\n", f);
        else if (rc == WORKFLOW_PENDING)
            fprintf(stderr, "Subscription already pending (skipping): %s\n", f);
        else if (rc == WORKFLOW_INVALID_EMAIL)
            fprintf(stderr, "Cannot parse as valid email address (skipping): %s\n", f);
        else if (rc < 0)
            cli_fail(1, "%s", err);
        g_free(err);
        workflow_result_clear(&res);
    }
}

int cli_addmembers_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"delivery", required_argument, NULL, 'd'},
                                         {"invite", no_argument, NULL, 'i'},
                                         {"welcome-msg", no_argument, NULL, 'w'},
                                         {"no-welcome-msg", no_argument, NULL, 'W'},
                                         {0}};
    const char *delivery = NULL;
    bool invite = false, welcome = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "d:iwW", opts)) != -1) {
        if (c == 'd')
            delivery = optarg;
        else if (c == 'i')
            invite = true;
        else if (c == 'w')
            welcome = true;
        else if (c == 'W')
            welcome = false;
    }
    static const char *const names[] = {"FILENAME", "LISTSPEC", NULL};
    cli_want_args(cli, argc, argv, names);
    struct delivery_choice dc = parse_delivery(cli, delivery);
    struct store_list *l = cli_need_list(cli, argv[optind + 1]);
    struct memberfile mf;
    memberfile_read(cli, "FILENAME", argv[optind], &mf);
    struct config *cfg = cli_config(cli);
    struct queue_root *qroot = queue_root_new(config_path(cfg, "queue_dir"));
    struct workflow_ctx w = {cfg, cli_store(cli), qroot, 0};
    if (invite) {
        invite_entries(cli, l, mf.entries, &w);
    } else {
        GPtrArray *added = welcome ? g_ptr_array_new() : NULL;
        add_entries(cli, l, mf.entries, dc, added);
        /* -w: the welcome message (Mailman's default is the list's
         * send_welcome_message; crier sends none without -w, see
         * docs/cli.md) */
        bool digest = dc.mode != STORE_DELIVERY_REGULAR;
        for (guint i = 0; added && i < added->len; i++) {
            struct memberfile_entry *e = added->pdata[i];
            char *err = NULL;
            if (workflow_mail_welcome(&w, l, e->email, e->display_name, digest, &err) < 0)
                cli_fail(1, "%s", err);
        }
        if (added)
            g_ptr_array_unref(added);
    }
    queue_root_free(qroot);
    unsigned bad = mf.bad;
    memberfile_clear(&mf);
    store_list_free(l);
    return bad > 0 ? 1 : 0;
}

static int collect_email(const struct store_member *m, void *arg)
{
    g_hash_table_insert(arg, g_strdup(m->email),
                        memberfile_format(m->display_name, m->original_email));
    return 0;
}

static GHashTable *current_members(struct cli *cli, const char *list_id)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    struct store_roster_filter f = {.list_id = list_id, .role_mask = STORE_MASK(STORE_ROLE_MEMBER)};
    char *err = NULL;
    if (store_roster(cli_store(cli), &f, collect_email, h, &err) < 0)
        cli_fail(1, "%s", err);
    return h;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_syncmembers_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"delivery", required_argument, NULL, 'd'},
                                         {"welcome-msg", no_argument, NULL, 'w'},
                                         {"no-welcome-msg", no_argument, NULL, 'W'},
                                         {"goodbye-msg", no_argument, NULL, 'g'},
                                         {"no-goodbye-msg", no_argument, NULL, 'G'},
                                         {"admin-notify", no_argument, NULL, 'a'},
                                         {"no-admin-notify", no_argument, NULL, 'A'},
                                         {"no-change", no_argument, NULL, 'n'},
                                         {0}};
    const char *delivery = NULL;
    bool no_change = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "d:wWgGaAn", opts)) != -1) {
        if (c == 'd')
            delivery = optarg;
        else if (c == 'n')
            no_change = true;
    }
    static const char *const names[] = {"FILENAME", "LISTSPEC", NULL};
    cli_want_args(cli, argc, argv, names);
    struct delivery_choice dc = parse_delivery(cli, delivery);
    struct store_list *l = cli_need_list(cli, argv[optind + 1]);
    struct memberfile mf;
    memberfile_read(cli, "FILENAME", argv[optind], &mf);
    GHashTable *have = current_members(cli, l->list_id);
    /* The file's addresses by lower-cased email (the last line wins). */
    GHashTable *want = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < mf.entries->len; i++) {
        struct memberfile_entry *e = mf.entries->pdata[i];
        g_hash_table_replace(want, g_ascii_strdown(e->email, -1), e);
    }
    GPtrArray *to_add = g_ptr_array_new(), *to_del = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, want);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_hash_table_contains(have, k))
            g_ptr_array_add(to_add, k);
    g_hash_table_iter_init(&it, have);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (!g_hash_table_contains(want, k))
            g_ptr_array_add(to_del, k);
    g_ptr_array_sort(to_add, cmp_str);
    g_ptr_array_sort(to_del, cmp_str);
    GPtrArray *entries = g_ptr_array_new();
    for (guint i = 0; i < to_add->len; i++) {
        struct memberfile_entry *e = g_hash_table_lookup(want, to_add->pdata[i]);
        g_autofree char *f = memberfile_format(e->display_name, e->email);
        printf("[ADD] %s\n", f);
        g_ptr_array_add(entries, e);
    }
    for (guint i = 0; i < to_del->len; i++)
        printf("[DEL] %s\n", (char *)g_hash_table_lookup(have, to_del->pdata[i]));
    if (to_add->len == 0 && to_del->len == 0)
        printf("Nothing to do\n");
    fflush(stdout);
    if (!no_change) {
        add_entries(cli, l, entries, dc, NULL);
        struct store *st = cli_store(cli);
        char *err = NULL;
        if (store_begin(st, &err) < 0)
            cli_fail(1, "%s", err);
        for (guint i = 0; i < to_del->len; i++) {
            if (store_member_remove(st, l->list_id, to_del->pdata[i], STORE_ROLE_MEMBER, &err) < 0)
                cli_fail(1, "%s", err);
            progress("removed", i + 1, to_del->len);
        }
        progress_end(to_del->len);
        if (store_commit(st, &err) < 0)
            cli_fail(1, "%s", err);
    }
    unsigned bad = mf.bad;
    g_ptr_array_free(entries, TRUE);
    g_ptr_array_free(to_add, TRUE);
    g_ptr_array_free(to_del, TRUE);
    g_hash_table_unref(want);
    g_hash_table_unref(have);
    memberfile_clear(&mf);
    store_list_free(l);
    return bad > 0 ? 1 : 0;
}

int cli_delmembers_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"list", required_argument, NULL, 'l'},      {"file", required_argument, NULL, 'f'},
        {"member", required_argument, NULL, 'm'},    {"all", no_argument, NULL, 'a'},
        {"fromall", no_argument, NULL, 'F'},         {"goodbye-msg", no_argument, NULL, 'g'},
        {"no-goodbye-msg", no_argument, NULL, 'G'},  {"admin-notify", no_argument, NULL, 'n'},
        {"no-admin-notify", no_argument, NULL, 'N'}, {0}};
    const char *list = NULL, *file = NULL;
    bool all = false, fromall = false;
    g_autoptr(GPtrArray) members = g_ptr_array_new();
    int c;
    while ((c = cli_getopt(cli, argc, argv, "l:f:m:agGnN", opts)) != -1) {
        switch (c) {
        case 'l':
            list = optarg;
            break;
        case 'f':
            file = optarg;
            break;
        case 'm':
            g_ptr_array_add(members, optarg);
            break;
        case 'a':
            all = true;
            break;
        case 'F':
            fromall = true;
            break;
        default:
            break;
        }
    }
    cli_want_args(cli, argc, argv, NULL);
    if (fromall && (list != NULL || all))
        cli_usage_error(cli, "--fromall may not be specified with -l/--list, or -a/--all");
    if (!fromall && all && (file != NULL || members->len > 0))
        cli_usage_error(cli, "-a/--all must not be specified with -f/--file or -m/--member.");
    if (list == NULL && !fromall)
        cli_usage_error(cli, "Without --fromall, -l/--list is required.");
    if (!all && file == NULL && members->len == 0)
        cli_usage_error(cli, "At least one of -a/--all, -f/--file or -m/--member is required.");

    struct store *st = cli_store(cli);
    char *err = NULL;
    GPtrArray *lists = g_ptr_array_new_with_free_func((GDestroyNotify)store_list_free);
    if (fromall) {
        struct store_list **v = NULL;
        if (store_list_list(st, NULL, false, &v, &err) < 0)
            cli_fail(1, "%s", err);
        for (struct store_list **p = v; *p; p++)
            g_ptr_array_add(lists, *p);
        g_free(v);
    } else {
        g_ptr_array_add(lists, cli_need_list(cli, list));
    }
    unsigned bad = 0;
    GPtrArray *targets = g_ptr_array_new_with_free_func(g_free); /* "name\temail" */
    for (guint i = 0; i < members->len; i++) {
        char *name, *email;
        if (!memberfile_parse(members->pdata[i], &name, &email)) {
            fprintf(stderr, "Cannot parse as valid email address (skipping): %s\n",
                    (char *)members->pdata[i]);
            bad++;
            continue;
        }
        g_ptr_array_add(targets, memberfile_format(name, email));
        g_ptr_array_add(targets, email);
        g_free(name);
    }
    if (file != NULL) {
        struct memberfile mf;
        memberfile_read(cli, "--file", file, &mf);
        bad += mf.bad;
        for (guint i = 0; i < mf.entries->len; i++) {
            struct memberfile_entry *e = mf.entries->pdata[i];
            g_ptr_array_add(targets, memberfile_format(e->display_name, e->email));
            g_ptr_array_add(targets, g_strdup(e->email));
        }
        memberfile_clear(&mf);
    }
    if (store_begin(st, &err) < 0)
        cli_fail(1, "%s", err);
    for (guint li = 0; li < lists->len; li++) {
        struct store_list *l = lists->pdata[li];
        if (all) {
            GHashTable *have = current_members(cli, l->list_id);
            GHashTableIter it;
            gpointer k, v;
            g_hash_table_iter_init(&it, have);
            while (g_hash_table_iter_next(&it, &k, &v)) {
                g_ptr_array_add(targets, g_strdup(v));
                g_ptr_array_add(targets, g_strdup(k));
            }
            g_hash_table_unref(have);
        }
        for (guint i = 0; i + 1 < targets->len; i += 2) {
            int rc =
                store_member_remove(st, l->list_id, targets->pdata[i + 1], STORE_ROLE_MEMBER, &err);
            if (rc < 0)
                cli_fail(1, "%s", err);
            if (rc == 0 && lists->len == 1)
                fprintf(stderr, "Member not subscribed (skipping): %s\n",
                        (char *)targets->pdata[i]);
        }
    }
    if (store_commit(st, &err) < 0)
        cli_fail(1, "%s", err);
    g_ptr_array_unref(targets);
    g_ptr_array_unref(lists);
    return bad > 0 ? 1 : 0;
}
