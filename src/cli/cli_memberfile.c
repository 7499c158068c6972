/* cli_memberfile - see cli_memberfile.h. */
#include "cli/cli.h"

#include "cli/cli_memberfile.h"
#include "lib/fsutil.h"
#include "mail/address.h"
#include "mail/gmime_safe.h"

#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void entry_free(void *p)
{
    struct memberfile_entry *e = p;
    g_free(e->display_name);
    g_free(e->email);
    g_free(e);
}

bool memberfile_parse(const char *text, char **display_name_r, char **email_r)
{
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        g_mime_init();
        g_once_init_leave(&init, 1);
    }
    *display_name_r = *email_r = NULL;
    InternetAddressList *list = gmime_safe_address_list_parse(text);
    if (list == NULL)
        return false;
    bool ok = false;
    if (internet_address_list_length(list) == 1) {
        InternetAddress *a = internet_address_list_get_address(list, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
            const char *name = internet_address_get_name(a);
            if (addr && address_is_valid(addr)) {
                *email_r = g_strdup(addr);
                *display_name_r = name && *name ? g_strdup(name) : NULL;
                ok = true;
            }
        }
    }
    g_object_unref(list);
    return ok;
}

void memberfile_read(struct cli *cli, const char *argname, const char *path, struct memberfile *mf)
{
    mf->entries = g_ptr_array_new_with_free_func(entry_free);
    mf->bad = 0;
    char *text = NULL, *err = NULL;
    size_t len = 0;
    bool is_stdin = strcmp(path, "-") == 0;
    if (fs_read_file(is_stdin ? "/dev/stdin" : path, MEMBERFILE_MAX_BYTES, &text, &len, &err) < 0) {
        if (is_stdin)
            cli_usage_error(cli, "Invalid value for '%s': cannot read standard input: %s", argname,
                            err);
        cli_usage_error(cli, "Invalid value for '%s': '%s': %s", argname, path, err);
    }
    const char *name = is_stdin ? "<stdin>" : path;
    int lineno = 0;
    for (char *p = text, *next; p && p < text + len; p = next) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        next = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        g_strstrip(p);
        if (*p == '\0' || *p == '#')
            continue;
        struct memberfile_entry *e = g_new0(struct memberfile_entry, 1);
        if (!memberfile_parse(p, &e->display_name, &e->email)) {
            fprintf(stderr, "%s:%d: Cannot parse as valid email address (skipping): %s\n", name,
                    lineno, p);
            mf->bad++;
            entry_free(e);
            continue;
        }
        e->line = lineno;
        g_ptr_array_add(mf->entries, e);
    }
    g_free(text);
}

void memberfile_clear(struct memberfile *mf)
{
    if (mf->entries)
        g_ptr_array_unref(mf->entries);
    mf->entries = NULL;
}

char *memberfile_format(const char *display_name, const char *email)
{
    if (display_name == NULL || *display_name == '\0')
        return g_strdup(email);
    bool special = strpbrk(display_name, "()<>[]:;@\\,.\"") != NULL;
    if (!special)
        return g_strdup_printf("%s <%s>", display_name, email);
    GString *q = g_string_new("\"");
    for (const char *p = display_name; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(q, '\\');
        g_string_append_c(q, *p);
    }
    g_string_append_printf(q, "\" <%s>", email);
    return g_string_free(q, FALSE);
}
