/* Unit tests for the config reader: every form of reference §1.1, layering,
 * instance sections, paths, and malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "config/config_parse.h"
#include "config/config_schema.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static struct config *load_ok(const char *text)
{
    struct config *cfg = NULL;
    char *err = NULL;
    int rc = config_load_text(text, "/tmp/t/mailman.cfg", "/usr/bin", &cfg, &err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
    return cfg;
}

static char *load_err(const char *text)
{
    struct config *cfg = NULL;
    char *err = NULL;
    int rc = config_load_text(text, "/tmp/t/mailman.cfg", "/usr/bin", &cfg, &err);
    assert_int_equal(rc, -1);
    assert_null(cfg);
    assert_non_null(err);
    return err;
}

/* Raw parser: each case gives text and the expected "section|key|value|line"
 * records joined by ';'. */
struct parse_case {
    const char *name, *text, *want;
};

static void record(void *ctx, const char *s, const char *k, const char *v, int line)
{
    g_string_append_printf(ctx, "%s|%s|%s|%d;", s, k, v, line);
}

static void test_parse_forms(void **state)
{
    static const struct parse_case cases[] = {
        {"colon", "[a]\nk: v\n", "a|k|v|2;"},
        {"equals", "[a]\nk = v\n", "a|k|v|2;"},
        {"first separator wins", "[a]\nk: v=w:x\n", "a|k|v=w:x|2;"},
        {"equals before colon", "[a]\nk = http://x\n", "a|k|http://x|2;"},
        {"keys case-folded", "[Sec]\nKeY: V\n", "Sec|key|V|2;"},
        {"continuation", "[a]\nk: one\n  two\n\tthree\n", "a|k|one\ntwo\nthree|2;"},
        {"blank line inside value", "[a]\nk: one\n\n  two\n", "a|k|one\n\ntwo|2;"},
        {"trailing blank lines dropped", "[a]\nk: one\n\n\nj: x\n", "a|k|one|2;a|j|x|5;"},
        {"hash comment", "# c\n[a]\n# k: no\nk: v\n", "a|k|v|4;"},
        {"semicolon comment", "; c\n[a]\n  ; still a comment\nk: v\n", "a|k|v|4;"},
        {"no inline comments", "[a]\nk: v ; not a comment # nor this\n",
         "a|k|v ; not a comment # nor this|2;"},
        {"comment inside continuation", "[a]\nk: one\n# c\n  two\n", "a|k|one\ntwo|2;"},
        {"dedent whole text", "  [a]\n  k: v\n    w\n", "a|k|v\nw|2;"},
        {"empty value", "[a]\nk:\n", "a|k||2;"},
        {"CRLF", "[a]\r\nk: v\r\n", "a|k|v|2;"},
        {"value whitespace stripped", "[a]\nk:    v   \n", "a|k|v|2;"},
        {"long line", NULL, NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const char *text = cases[i].text;
        g_autofree char *longtext = NULL, *want_long = NULL;
        const char *want = cases[i].want;
        if (text == NULL) {
            g_autofree char *big = g_strnfill(5000, 'x');
            longtext = g_strdup_printf("[a]\nk: %s\n", big);
            want_long = g_strdup_printf("a|k|%s|2;", big);
            text = longtext;
            want = want_long;
        }
        GString *got = g_string_new(NULL);
        GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
        int rc = config_parse_text(text, strlen(text), "f.cfg", record, got, errors);
        if (rc != 0 || strcmp(got->str, want) != 0)
            fail_msg("case '%s': rc %d, got '%s', want '%s'", cases[i].name, rc, got->str, want);
        g_string_free(got, TRUE);
        g_ptr_array_unref(errors);
    }
}

static void test_parse_errors(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"k: v\n", "f.cfg:1: line before any [section]"},
        {"[a]\njust words\n", "f.cfg:2: expected 'key: value' or 'key = value'"},
        {"[a]\n: v\n", "f.cfg:2: empty key"},
        {"[a]\nk: v\n[]\n", "f.cfg:3: expected 'key: value'"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GString *got = g_string_new(NULL);
        GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
        int rc =
            config_parse_text(cases[i].text, strlen(cases[i].text), "f.cfg", record, got, errors);
        assert_int_equal(rc, -1);
        assert_true(errors->len >= 1);
        if (!g_str_has_prefix(errors->pdata[0], cases[i].want))
            fail_msg("case %zu: got '%s'", i, (char *)errors->pdata[0]);
        g_string_free(got, TRUE);
        g_ptr_array_unref(errors);
    }
    /* A NUL byte is refused outright. */
    GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
    GString *got = g_string_new(NULL);
    assert_int_equal(config_parse_text("[a]\nk: v\0x\n", 10, "f.cfg", record, got, errors), -1);
    g_string_free(got, TRUE);
    g_ptr_array_unref(errors);
}

static void test_defaults(void **state)
{
    struct config *cfg = load_ok("");
    assert_string_equal(config_get(cfg, "mta", "lmtp_port"), "8024");
    assert_string_equal(config_get(cfg, "mta", "lmtp_host"), "127.0.0.1");
    assert_string_equal(config_get(cfg, "mta", "incoming"), "mailman.mta.postfix.LMTP");
    assert_string_equal(config_get(cfg, "mta", "verp_format"), "${bounces}+${local}=${domain}");
    assert_int_equal(config_get_int(cfg, "mta", "max_recipients"), 500);
    assert_true(config_get_duration(cfg, "mta", "delivery_retry_period") == 5 * 86400);
    assert_string_equal(config_get(cfg, "webservice", "admin_user"), "restadmin");
    assert_string_equal(config_get(cfg, "mailman", "anonymous_list_keep_headers"),
                        "^x-mailman- ^x-content-filtered-by: ^x-topics:\n"
                        "^x-ack: ^x-beenthere: ^x-list-administrivia: ^x-spam-");
    /* Runner instances take their template's keys plus the built-in overrides. */
    assert_string_equal(config_get(cfg, "runner.retry", "sleep_time"), "15m");
    assert_string_equal(config_get(cfg, "runner.out", "sleep_time"), "1s");
    assert_false(config_get_bool(cfg, "runner.shunt", "start"));
    assert_string_equal(config_get(cfg, "logging.smtp", "path"), "smtp.log");
    assert_string_equal(config_get(cfg, "logging.database", "level"), "warn");
    assert_string_equal(config_get(cfg, "logging.vette", "path"), "mailman.log");
    assert_string_equal(config_get(cfg, "postfix", "postmap_command"), "/usr/sbin/postmap");
    assert_string_equal(config_get(cfg, "postfix", "transport_file_type"), "hash");
    assert_string_equal(config_get(cfg, "language.de", "description"), "German");
    config_free(cfg);
}

static void test_user_overrides_and_instances(void **state)
{
    struct config *cfg = load_ok("[mta]\nlmtp_port: 9024\nSMTP_SECURE_MODE = StartTLS\n"
                                 "[runner.out]\ninstances: 4\n"
                                 "[runner.custom]\nclass: x.Y\n"
                                 "[archiver.hyperkitty]\nenable: yes\n");
    assert_int_equal(config_get_int(cfg, "mta", "lmtp_port"), 9024);
    assert_string_equal(config_get(cfg, "mta", "smtp_secure_mode"), "StartTLS");
    assert_int_equal(config_get_int(cfg, "runner.out", "instances"), 4);
    /* A new runner section is a copy of runner.master. */
    assert_string_equal(config_get(cfg, "runner.custom", "class"), "x.Y");
    assert_string_equal(config_get(cfg, "runner.custom", "max_restarts"), "10");
    assert_true(config_get_bool(cfg, "archiver.hyperkitty", "enable"));
    assert_string_equal(config_get(cfg, "archiver.hyperkitty", "clobber_date"), "maybe");
    assert_int_equal(config_warnings(cfg)->len, 0);
    config_free(cfg);
}

static void test_unknown_warns_once(void **state)
{
    struct config *cfg = load_ok("[nosuch]\na: 1\nb: 2\n[mta]\nbogus: 1\nbogus: 2\n"
                                 "[logging.mine]\npath: x.log\n[postfix]\npostmap_command: x\n");
    const GPtrArray *w = config_warnings(cfg);
    /* [logging.mine] is a logger section as lazr.config allows them under
     * [logging.template] (Debian's mailman.cfg has [logging.debian]). */
    assert_int_equal(w->len, 3);
    assert_string_equal(w->pdata[0], "/tmp/t/mailman.cfg:2: unknown section [nosuch] ignored");
    assert_string_equal(w->pdata[1], "/tmp/t/mailman.cfg:5: unknown key 'bogus' in [mta] ignored");
    assert_string_equal(w->pdata[2], "/tmp/t/mailman.cfg:10: unknown section [postfix] ignored");
    assert_string_equal(config_get(cfg, "logging.mine", "path"), "x.log");
    /* The MTA's file is not read from mailman.cfg. */
    assert_string_equal(config_get(cfg, "postfix", "postmap_command"), "/usr/sbin/postmap");
    config_free(cfg);
}

static void test_bad_values(void **state)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[mta]\nlmtp_port: eighty\n",
         "/tmp/t/mailman.cfg:2: [mta] lmtp_port: invalid value 'eighty'; expected an integer "
         "from 1 to 65535"},
        {"[mta]\nlmtp_port: 70000\n", "/tmp/t/mailman.cfg:2: [mta] lmtp_port: invalid value"},
        {"[mta]\n\nsmtp_verify_cert: maybe\n",
         "/tmp/t/mailman.cfg:3: [mta] smtp_verify_cert: invalid value 'maybe'; expected a "
         "boolean"},
        {"[mta]\ndelivery_retry_period: 5\n",
         "/tmp/t/mailman.cfg:2: [mta] delivery_retry_period: invalid value '5'; expected a "
         "duration"},
        {"[mta]\ndelivery_retry_period: 5h1d\n", "[mta] delivery_retry_period: invalid"},
        {"[mta]\nsmtp_secure_mode: tls\n",
         "[mta] smtp_secure_mode: invalid value 'tls'; expected one of: smtp smtps starttls"},
        {"[runner.out]\ninstances: 3\n", "[runner.out] instances: invalid value '3'; expected a "
                                         "power of two"},
        {"[mta]\nverp_regexp: ^(unclosed\n", "[mta] verp_regexp: invalid value"},
        {"[logging.smtp]\nlevel: loud\n", "[logging.smtp] level: invalid value 'loud'"},
        {"[mailman]\nlayout: nowhere\n", "No path configuration found: paths.nowhere"},
        {"[mta]\nconfiguration: relative/postfix.cfg\n", "[mta] configuration: "},
        {"[mta]\nconfiguration: /nonexistent/postfix.cfg\n",
         "[mta] configuration: cannot open /nonexistent/postfix.cfg"},
        {"[paths.here]\nvar_dir: $queue_dir/x\n[paths.master]\n",
         "Path expansion infloop detected"},
        {"orphan: 1\n", "/tmp/t/mailman.cfg:1: line before any [section]"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *err = load_err(cases[i].text);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
        g_free(err);
    }
}

static void test_good_values(void **state)
{
    static const char *const ok[] = {
        "[mta]\nsmtp_verify_cert: ON\nverp_probes: Enabled\nremove_dkim_headers: 0\n",
        "[mta]\ndelivery_retry_period: 1w2d3h4m5.5s\n",
        "[runner.out]\ninstances: 8\n",
        "[webservice]\napi_version: 3.0\n",
        "[logging.smtp]\nlevel: WARNING\nevery: no\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
        config_free(load_ok(ok[i]));
    struct config *cfg = load_ok("[mta]\ndelivery_retry_period: 1d6h\n");
    assert_true(config_get_duration(cfg, "mta", "delivery_retry_period") == 86400 + 6 * 3600);
    config_free(cfg);
}

static void test_paths(void **state)
{
    g_unsetenv("MAILMAN_VAR_DIR");
    struct config *cfg = load_ok("[mailman]\nlayout: testing\n[paths.testing]\n"
                                 "var_dir: /srv/m/../mm\nlog_dir: /var/log/crier\n"
                                 "queue_dir: $data_dir/q\n");
    assert_string_equal(config_path(cfg, "var_dir"), "/srv/mm");
    assert_string_equal(config_path(cfg, "data_dir"), "/srv/mm/data");
    assert_string_equal(config_path(cfg, "queue_dir"), "/srv/mm/data/q");
    assert_string_equal(config_path(cfg, "log_dir"), "/var/log/crier");
    assert_string_equal(config_path(cfg, "lock_file"), "/srv/mm/locks/master.lck");
    assert_string_equal(config_path(cfg, "pid_file"), "/srv/mm/master.pid");
    assert_string_equal(config_path(cfg, "bin_dir"), "/usr/bin");
    g_autofree char *url = config_expand(cfg, config_get(cfg, "database", "url"), NULL);
    assert_string_equal(url, "sqlite:////srv/mm/data/mailman.db");
    config_free(cfg);

    /* Layout dev: $cfg_file/../.. with cfg_file /tmp/t/mailman.cfg (Python abspath). */
    cfg = load_ok("[mailman]\nlayout: dev\n");
    assert_string_equal(config_path(cfg, "var_dir"), "/tmp");
    config_free(cfg);
    cfg = load_ok("[mailman]\nlayout: fhs\n");
    assert_string_equal(config_path(cfg, "queue_dir"), "/var/spool/mailman");
    assert_string_equal(config_path(cfg, "data_dir"), "/var/lib/mailman/data");
    assert_string_equal(config_path(cfg, "pid_file"), "/var/run/mailman/master.pid");
    config_free(cfg);

    /* MAILMAN_VAR_DIR overrides var_dir. */
    g_setenv("MAILMAN_VAR_DIR", "/env/var", TRUE);
    cfg = load_ok("[paths.here]\nvar_dir: /ignored\n");
    assert_string_equal(config_path(cfg, "queue_dir"), "/env/var/queue");
    config_free(cfg);
    g_unsetenv("MAILMAN_VAR_DIR");

    /* here: $cwd/var */
    cfg = load_ok("");
    g_autofree char *cwd = g_get_current_dir();
    g_autofree char *want = g_build_filename(cwd, "var", "logs", NULL);
    assert_string_equal(config_path(cfg, "log_dir"), want);
    config_free(cfg);
}

static void test_mta_file(void **state)
{
    char tmpl[] = "/tmp/crier-cfg-XXXXXX";
    assert_non_null(g_mkdtemp(tmpl));
    g_autofree char *pf = g_build_filename(tmpl, "postfix.cfg", NULL);
    assert_true(g_file_set_contents(pf,
                                    "[postfix]\npostmap_command: /bin/true\n"
                                    "transport_file_type: regex\n",
                                    -1, NULL));
    g_autofree char *text = g_strdup_printf("[mta]\nconfiguration: %s\n", pf);
    struct config *cfg = load_ok(text);
    assert_string_equal(config_get(cfg, "postfix", "postmap_command"), "/bin/true");
    assert_string_equal(config_get(cfg, "postfix", "transport_file_type"), "regex");
    config_free(cfg);

    assert_true(g_file_set_contents(pf, "[postfix]\ntransport_file_type: btree\n", -1, NULL));
    char *err = load_err(text);
    assert_non_null(strstr(err, "postfix.cfg:2: [postfix] transport_file_type: invalid value "
                                "'btree'; expected one of: hash regex"));
    g_free(err);
    unlink(pf);
    rmdir(tmpl);
}

static void test_sections_sorted_and_hidden(void **state)
{
    struct config *cfg = load_ok("");
    GPtrArray *names = config_section_names(cfg);
    for (guint i = 1; i < names->len; i++)
        assert_true(strcmp(names->pdata[i - 1], names->pdata[i]) < 0);
    for (guint i = 0; i < names->len; i++)
        assert_string_not_equal(names->pdata[i], "postfix");
    g_ptr_array_unref(names);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_forms),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_user_overrides_and_instances),
        cmocka_unit_test(test_unknown_warns_once),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_good_values),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_mta_file),
        cmocka_unit_test(test_sections_sorted_and_hidden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
