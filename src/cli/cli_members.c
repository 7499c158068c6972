/* cli_members - members, addmembers, delmembers, syncmembers, findmember
 * and changeaddress (reference §8), on the store's bulk and streaming
 * calls. Unlike Mailman, a member file's unparseable lines are reported
 * with their line numbers and make the exit status 1 (the good lines are
 * still applied). */
#include "lib/regex.h"
#include "cli/cli_verbs.h"

#include "cli/cli_memberfile.h"
#include "store/store.h"

#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- members ---- */

struct show_ctx {
    FILE *fp;
    bool email_only;
    GHashTable *seen; /* emails printed (a person may have several roles) */
};

static int show_member(const struct store_member *m, void *arg)
{
    struct show_ctx *c = arg;
    if (!g_hash_table_add(c->seen, g_strdup(m->email)))
        return 0;
    if (c->email_only || m->display_name == NULL || *m->display_name == '\0')
        fprintf(c->fp, "%s\n", m->original_email);
    else
        fprintf(c->fp, "%s <%s>\n", m->display_name, m->original_email);
    return 0;
}

static int count_one(const struct store_member *m, void *arg)
{
    (*(int64_t *)arg)++;
    return 0;
}

static unsigned role_mask(struct cli *cli, const char *role)
{
    static const struct {
        const char *name;
        unsigned mask;
    } roles[] = {
        {"member", STORE_MASK(STORE_ROLE_MEMBER)},
        {"owner", STORE_MASK(STORE_ROLE_OWNER)},
        {"moderator", STORE_MASK(STORE_ROLE_MODERATOR)},
        {"nonmember", STORE_MASK(STORE_ROLE_NONMEMBER)},
        {"administrator", STORE_MASK(STORE_ROLE_OWNER) | STORE_MASK(STORE_ROLE_MODERATOR)},
        {"any", 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(roles); i++)
        if (strcmp(roles[i].name, role) == 0)
            return roles[i].mask;
    cli_usage_error(cli,
                    "Invalid value for '--role' / '-R': '%s' is not one of 'any', 'owner', "
                    "'moderator', 'nonmember', 'member', 'administrator'.",
                    role);
}

int cli_members_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"role", required_argument, NULL, 'R'},
                                         {"regular", no_argument, NULL, 'r'},
                                         {"email-only", no_argument, NULL, 'e'},
                                         {"count-only", no_argument, NULL, 'c'},
                                         {"no-change", no_argument, NULL, 'N'},
                                         {"digest", required_argument, NULL, 'd'},
                                         {"nomail", required_argument, NULL, 'n'},
                                         {0}};
    const char *output = NULL, *role = "member", *digest = NULL, *nomail = NULL;
    bool regular = false, email_only = false, count_only = false;
    int c;
    while ((c = cli_getopt(cli, argc, argv, "o:R:recNd:n:", opts)) != -1) {
        switch (c) {
        case 'o':
            output = optarg;
            break;
        case 'R':
            role = optarg;
            break;
        case 'r':
            regular = true;
            break;
        case 'e':
            email_only = true;
            break;
        case 'c':
            count_only = true;
            break;
        case 'd':
            digest = optarg;
            break;
        case 'n':
            nomail = optarg;
            break;
        default:
            break;
        }
    }
    static const char *const names[] = {"LISTSPEC", NULL};
    cli_want_args(cli, argc, argv, names);
    struct store_roster_filter f = {.role_mask = role_mask(cli, role)};
    if (regular)
        f.delivery_mode_mask = STORE_MASK(STORE_DELIVERY_REGULAR);
    if (digest != NULL) {
        unsigned plain = STORE_MASK(STORE_DELIVERY_PLAINTEXT_DIGESTS);
        unsigned mime =
            STORE_MASK(STORE_DELIVERY_MIME_DIGESTS) | STORE_MASK(STORE_DELIVERY_SUMMARY_DIGESTS);
        if (strcmp(digest, "any") == 0)
            f.delivery_mode_mask = plain | mime;
        else if (strcmp(digest, "mime") == 0)
            f.delivery_mode_mask = mime;
        else if (strcmp(digest, "plaintext") == 0)
            f.delivery_mode_mask = plain;
        else
            cli_usage_error(cli,
                            "Invalid value for '--digest' / '-d': '%s' is not one of 'any', "
                            "'plaintext', 'mime'.",
                            digest);
        if (regular) /* both: nothing can match, as in Mailman */
            f.delivery_mode_mask = STORE_MASK(STORE_DELIVERY_REGULAR) & f.delivery_mode_mask;
    }
    if (nomail != NULL) {
        static const struct {
            const char *name;
            unsigned mask;
        } why[] = {
            {"enabled", STORE_MASK(STORE_DELIVERY_ENABLED)},
            {"byuser", STORE_MASK(STORE_DELIVERY_BY_USER)},
            {"bybounces", STORE_MASK(STORE_DELIVERY_BY_BOUNCES)},
            {"byadmin", STORE_MASK(STORE_DELIVERY_BY_MODERATOR)},
            {"unknown", STORE_MASK(STORE_DELIVERY_UNKNOWN)},
            {"any", STORE_MASK(STORE_DELIVERY_BY_USER) | STORE_MASK(STORE_DELIVERY_BY_BOUNCES) |
                        STORE_MASK(STORE_DELIVERY_BY_MODERATOR) |
                        STORE_MASK(STORE_DELIVERY_UNKNOWN)},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(why); i++)
            if (strcmp(why[i].name, nomail) == 0)
                f.delivery_status_mask = why[i].mask;
        if (f.delivery_status_mask == 0)
            cli_usage_error(cli,
                            "Invalid value for '--nomail' / '-n': '%s' is not one of 'enabled', "
                            "'any', 'unknown', 'byadmin', 'byuser', 'bybounces'.",
                            nomail);
    }
    struct store_list *l = cli_need_list(cli, argv[optind]);
    f.list_id = l->list_id;
    FILE *fp = stdout;
    if (output && strcmp(output, "-") != 0 && (fp = fopen(output, "w")) == NULL)
        cli_usage_error(cli, "Invalid value for '--output' / '-o': Could not open file: %s",
                        output);
    struct show_ctx sc = {fp, email_only,
                          g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    char *err = NULL;
    /* Mailman: an empty roster of the role says so; filters that leave
     * nobody print nothing; -c counts the role's whole roster. */
    struct store_roster_filter all = {.list_id = l->list_id, .role_mask = f.role_mask};
    int64_t total = 0;
    if (store_roster(cli_store(cli), &all, count_one, &total, &err) < 0)
        cli_fail(1, "%s", err);
    if (total == 0 && count_only)
        fprintf(fp, "0\n");
    else if (total == 0)
        fprintf(fp, "%s has no members\n", l->list_id);
    else if (count_only)
        fprintf(fp, "%lld\n", (long long)total);
    else if (store_roster(cli_store(cli), &f, show_member, &sc, &err) < 0)
        cli_fail(1, "%s", err);
    g_hash_table_unref(sc.seen);
    if (fp != stdout)
        fclose(fp);
    store_list_free(l);
    return 0;
}

/* ---- findmember ---- */

struct find_ctx {
    GRegex *re;
    unsigned role_mask;
    char *last_email, *last_list;
    int last_role;
};

static int find_one(const struct store_member *m, void *arg)
{
    struct find_ctx *c = arg;
    if (c->role_mask && !(c->role_mask & STORE_MASK(m->role)))
        return 0;
    if (!regex_search(c->re, m->email))
        return 0;
    if (g_strcmp0(c->last_email, m->email) != 0) {
        printf("Email: %s\n", m->email);
        g_free(c->last_email);
        c->last_email = g_strdup(m->email);
        g_clear_pointer(&c->last_list, g_free);
    }
    if (g_strcmp0(c->last_list, m->list_id) != 0) {
        printf("    List: %s\n", m->list_id);
        g_free(c->last_list);
        c->last_list = g_strdup(m->list_id);
        c->last_role = 0;
    }
    if (c->last_role != m->role) {
        printf("        MemberRole.%s\n", store_role_name(m->role));
        c->last_role = m->role;
    }
    return 0;
}

int cli_findmember_run(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'}, {0}};
    const char *role = "all";
    int c;
    while ((c = cli_getopt(cli, argc, argv, "r:", opts)) != -1)
        role = optarg;
    static const char *const names[] = {"PATTERN", NULL};
    cli_want_args(cli, argc, argv, names);
    struct find_ctx fc = {0};
    if (strcmp(role, "all") != 0) {
        if (strcmp(role, "any") == 0)
            cli_usage_error(cli, "Invalid value for '--role' / '-r': 'any' is not one of 'all', "
                                 "'owner', 'moderator', 'nonmember', 'member', 'administrator'.");
        fc.role_mask = role_mask(cli, role);
    }
    char *rerr = NULL;
    /* Mailman: re.search(pattern, email, re.I). */
    fc.re = regex_compile(argv[optind], &rerr);
    if (fc.re == NULL)
        cli_usage_error(cli, "Invalid value for 'PATTERN': %s", rerr);
    char *err = NULL;
    if (store_member_find(cli_store(cli), NULL, NULL, 0, find_one, &fc, &err) < 0)
        cli_fail(1, "%s", err);
    g_regex_unref(fc.re);
    g_free(fc.last_email);
    g_free(fc.last_list);
    return 0;
}

/* ---- changeaddress ---- */

int cli_changeaddress_run(struct cli *cli, int argc, char **argv)
{
    while (cli_getopt(cli, argc, argv, "", NULL) != -1)
        ;
    static const char *const names[] = {"OLD_ADDRESS", "NEW_ADDRESS", NULL};
    cli_want_args(cli, argc, argv, names);
    const char *old = argv[optind], *new = argv[optind + 1];
    char *err = NULL;
    int rc = store_address_change(cli_store(cli), old, new, &err);
    if (rc == STORE_NOT_FOUND || rc == STORE_EXISTS || rc == STORE_INVALID)
        cli_usage_error(cli, "%s", err);
    if (rc < 0)
        cli_fail(1, "%s", err);
    printf("Address changed from %s to %s.\n", old, new);
    return 0;
}
