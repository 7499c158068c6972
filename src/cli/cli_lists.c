/* cli_lists - create, remove and lists, with Mailman 3.3.8's texts and
 * exit codes (reference §8, §12 items 12 and 17-20). */
#include "cli/cli_verbs.h"

#include "config/config.h"
#include "lib/fsutil.h"
#include "mail/address.h"
#include "mail/notice.h"
#include "queue/queue_admin.h"
#include "store/store.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Mailman's `create -n`: "Your new mailing list" to the owners, from the
 * list's noreply address, through the virgin queue. */
static void notify_owners(struct cli *cli, const struct store_list *l, GPtrArray *owners)
{
    static const char tmpl[] =
        "The mailing list '%s' has just been created for you.  The\n"
        "following is some basic information about your mailing list.\n"
        "\n"
        "There is an email-based interface for users (not administrators) of your list;\n"
        "you can get info about using it by sending a message with just the word 'help'\n"
        "as subject or in the body, to:\n"
        "\n"
        "    %s-request@%s\n"
        "\n"
        "Please address all questions to %s.\n";
    struct config *cfg = cli_config(cli);
    const char *site = config_get(cfg, "mailman", "site_owner");
    g_autofree char *raw =
        g_strdup_printf(tmpl, l->fqdn_listname, l->list_name, l->mail_host, site);
    g_autofree char *text = notice_wrap(raw, 70);
    g_autofree char *from =
        g_strdup_printf("%s@%s", config_get(cfg, "mailman", "noreply_address"), l->mail_host);
    g_autofree char *subject = g_strdup_printf("Your new mailing list: %s", l->fqdn_listname);
    g_ptr_array_add(owners, NULL);
    size_t len;
    g_autofree char *msg =
        notice_build(from, (const char *const *)owners->pdata, subject, text, l->mail_host, &len);
    g_ptr_array_remove_index(owners, owners->len - 1);
    g_autofree char *rcpts = g_strjoinv("\n", (char **)owners->pdata);
    struct queue_meta *meta = queue_meta_new();
    queue_meta_set(meta, "listid", l->list_id);
    queue_meta_set(meta, "recipients", rcpts);
    queue_meta_set(meta, "reduced_list_headers", "true");
    queue_meta_set(meta, "nodecorate", "true");
    struct queue_root *root = queue_root_new(config_path(cfg, "queue_dir"));
    char *err = NULL;
    if (queue_admin_inject(root, "virgin", meta, msg, len, NULL, &err) < 0) {
        fprintf(stderr, "Warning: cannot queue the notice to the owners: %s\n", err);
        g_free(err);
    }
    queue_root_free(root);
    queue_meta_free(meta);
}

int cli_create_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"language", required_argument, NULL, 'L'}, {"owner", required_argument, NULL, 'o'},
        {"notify", no_argument, NULL, 'n'},         {"no-notify", no_argument, NULL, 'N'},
        {"quiet", no_argument, NULL, 'q'},          {"domain", no_argument, NULL, 'd'},
        {"no-domain", no_argument, NULL, 'D'},      {0}};
    const char *language = NULL;
    bool notify = false, quiet = false, create_domain = true;
    g_autoptr(GPtrArray) owners = g_ptr_array_new();
    int c;
    while ((c = cli_getopt(cli, argc, argv, "o:nNqdD", opts)) != -1) {
        switch (c) {
        case 'L':
            language = optarg;
            break;
        case 'o':
            g_ptr_array_add(owners, optarg);
            break;
        case 'n':
        case 'N':
            notify = c == 'n';
            break;
        case 'q':
            quiet = true;
            break;
        default:
            create_domain = c == 'd';
        }
    }
    static const char *const names[] = {"LISTNAME", NULL};
    cli_want_args(cli, argc, argv, names);
    const char *given = argv[optind];
    struct config *cfg = cli_config(cli);
    if (language == NULL)
        language = config_get(cfg, "mailman", "default_language");
    g_autofree char *lang_sect = g_strconcat("language.", language, NULL);
    if (strcmp(language, "master") == 0 || !config_has_section(cfg, lang_sect))
        cli_usage_error(cli, "Invalid language code: %s", language);

    g_autofree char *fqdn = g_ascii_strdown(given, -1);
    const char *at = strchr(fqdn, '@');
    g_autofree char *list_name = at ? g_strndup(fqdn, (gsize)(at - fqdn)) : NULL;
    if (!address_is_valid(fqdn) ||
        !address_list_name_ok(list_name, config_get(cfg, "mailman", "listname_chars")))
        cli_usage_error(cli, "Illegal list name: %s", given);
    const char *domain = at + 1;
    GPtrArray *bad = g_ptr_array_new();
    for (guint i = 0; i < owners->len; i++)
        if (!address_is_valid(owners->pdata[i]))
            g_ptr_array_add(bad, owners->pdata[i]);
    if (bad->len > 0) {
        g_ptr_array_sort(bad, cmp_str);
        g_ptr_array_add(bad, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **)bad->pdata);
        cli_usage_error(cli, "Illegal owner addresses: %s", list);
    }
    g_ptr_array_free(bad, TRUE);

    struct store *st = cli_store(cli);
    char *err = NULL;
    struct store_list *l = NULL;
    if (store_begin(st, &err) < 0)
        cli_fail(1, "%s", err);
    struct store_domain *d = NULL;
    int rc = store_domain_get(st, domain, &d, &err);
    if (rc == 0 && !create_domain) {
        store_rollback(st, NULL);
        cli_usage_error(cli, "Undefined domain: %s", domain);
    }
    if (rc == 0)
        rc = store_domain_create(st, domain, NULL, NULL, NULL, &err);
    store_domain_free(d);
    if (rc >= 0) {
        rc = store_list_create(st, fqdn, NULL, &l, &err);
        if (rc == STORE_EXISTS) {
            store_rollback(st, NULL);
            cli_usage_error(cli, "List already exists: %s", given);
        }
    }
    if (rc >= 0 && strcmp(language, "en") != 0)
        rc = store_list_set_attr(st, l->list_id, "preferred_language", language, &err);
    for (guint i = 0; rc >= 0 && i < owners->len; i++) {
        rc = store_member_add(st, l->list_id, owners->pdata[i], NULL, STORE_ROLE_OWNER, 0, NULL,
                              &err);
        if (rc == STORE_EXISTS) /* the same owner given twice */
            rc = 0;
    }
    /* The MTA step runs inside the transaction: if postmap fails, the list
     * is rolled back and the maps are written again without it. */
    if (rc >= 0)
        rc = cli_mta_list_created(cli, l, &err);
    if (rc < 0) {
        store_rollback(st, NULL);
        char *err2 = NULL;
        if (l != NULL && cli_mta_regenerate(cli, NULL, &err2) < 0)
            g_free(err2);
        store_list_free(l);
        cli_fail(1, "cannot create %s: %s", fqdn, err);
    }
    if (store_commit(st, &err) < 0)
        cli_fail(1, "cannot create %s: %s", fqdn, err);
    if (!quiet)
        printf("Created mailing list: %s\n", l->fqdn_listname);
    if (notify && owners->len > 0)
        notify_owners(cli, l, owners);
    store_list_free(l);
    return 0;
}

int cli_remove_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'}, {0}};
    bool quiet = false;
    while (cli_getopt(cli, argc, argv, "q", opts) != -1)
        quiet = true;
    static const char *const names[] = {"LISTSPEC", NULL};
    cli_want_args(cli, argc, argv, names);
    const char *spec = argv[optind];
    struct store *st = cli_store(cli);
    struct store_list *l = NULL;
    char *err = NULL;
    int rc = store_list_get(st, spec, &l, &err);
    if (rc < 0)
        cli_fail(1, "%s", err);
    if (rc == 0) {
        /* Mailman exits 0 here. */
        if (!quiet)
            printf("No such list matching spec: %s\n", spec);
        return 0;
    }
    g_autofree char *data_path =
        g_build_filename(config_path(cli_config(cli), "list_data_dir"), l->list_id, NULL);
    if (store_list_remove(st, l->list_id, &err) < 0)
        cli_fail(1, "cannot remove %s: %s", spec, err);
    if (fs_remove_tree(data_path, &err) < 0) {
        fprintf(stderr, "Warning: %s\n", err);
        g_clear_pointer(&err, g_free);
    }
    rc = cli_mta_list_removed(cli, l, &err);
    store_list_free(l);
    if (!quiet)
        printf("Removed list: %s\n", spec);
    if (rc < 0)
        cli_fail(1, "the list is removed, but the MTA maps were not updated: %s", err);
    return 0;
}

static gint cmp_list_id(gconstpointer a, gconstpointer b)
{
    return strcmp((*(struct store_list *const *)a)->list_id,
                  (*(struct store_list *const *)b)->list_id);
}

int cli_lists_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"advertised", no_argument, NULL, 'a'},      {"names", no_argument, NULL, 'n'},
        {"no-names", no_argument, NULL, 'N'},        {"descriptions", no_argument, NULL, 'd'},
        {"no-descriptions", no_argument, NULL, 'D'}, {"quiet", no_argument, NULL, 'q'},
        {"domain", required_argument, NULL, 'M'},    {0}};
    bool advertised = false, names = false, descriptions = false, quiet = false;
    g_autoptr(GPtrArray) domains = g_ptr_array_new_with_free_func(g_free);
    int c;
    while ((c = cli_getopt(cli, argc, argv, "anNdDq", opts)) != -1) {
        switch (c) {
        case 'a':
            advertised = true;
            break;
        case 'n':
        case 'N':
            names = c == 'n';
            break;
        case 'd':
        case 'D':
            descriptions = c == 'd';
            break;
        case 'q':
            quiet = true;
            break;
        default:
            g_ptr_array_add(domains, g_strdup(optarg));
        }
    }
    cli_want_args(cli, argc, argv, NULL);
    struct store *st = cli_store(cli);
    struct store_list **v = NULL;
    char *err = NULL;
    if (store_list_list(st, NULL, advertised, &v, &err) < 0)
        cli_fail(1, "%s", err);
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *descs = g_ptr_array_new();
    GPtrArray *sorted = g_ptr_array_new();
    for (struct store_list **p = v; *p; p++) {
        bool keep = domains->len == 0;
        for (guint i = 0; i < domains->len && !keep; i++)
            keep = strcmp(domains->pdata[i], (*p)->mail_host) == 0;
        if (keep)
            g_ptr_array_add(sorted, *p);
    }
    g_ptr_array_sort(sorted, cmp_list_id); /* Mailman sorts by list_id */
    if (sorted->len == 0) {
        if (!quiet)
            printf("No matching mailing lists found\n");
    } else {
        if (!quiet)
            printf("%u matching mailing lists found:\n", sorted->len);
        int longest = 0;
        for (guint i = 0; i < sorted->len; i++) {
            struct store_list *l = sorted->pdata[i];
            char *id = names ? g_strdup_printf("%s [%s]", l->fqdn_listname,
                                               store_list_attr(l, "display_name"))
                             : g_strdup(l->fqdn_listname);
            longest = MAX(longest, (int)g_utf8_strlen(id, -1));
            g_ptr_array_add(ids, id);
            g_ptr_array_add(descs, (gpointer)store_list_attr(l, "description"));
        }
        for (guint i = 0; i < ids->len; i++) {
            const char *id = ids->pdata[i];
            int pad = longest - (int)g_utf8_strlen(id, -1);
            if (descriptions) {
                const char *desc = descs->pdata[i] ? descs->pdata[i] : "";
                int dpad = MAX(0, 70 - longest - (int)g_utf8_strlen(desc, -1));
                printf("%s%*s - %s%*s\n", id, pad, "", desc, dpad, "");
            } else {
                printf("%s%*s\n", id, pad, "");
            }
        }
    }
    g_ptr_array_unref(ids);
    g_ptr_array_unref(descs);
    g_ptr_array_unref(sorted);
    store_listv_free(v);
    return 0;
}
