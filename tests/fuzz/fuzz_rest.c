/* libFuzzer: the REST request parsing. An input is one request:
 *
 *   byte 0      bits 0-1 Content-Type (none, application/json,
 *               application/x-www-form-urlencoded, text/plain), bit 2
 *               OPTIONS instead of GET, bit 3 no credentials
 *   then        the request target up to the first LF ("/3.1/lists?count=2")
 *   then        the body
 *
 * Each request is dispatched through the route table against a small site
 * (one domain, one list, two members) made once in a temporary directory;
 * GET and OPTIONS only, so that inputs do not change the store and a crash
 * reproduces from its input alone. The form and JSON body parsers and the
 * paging are also run on the body directly. Invariants: a response has a
 * status from 200 to 599; form parameters are strings or arrays of strings;
 * a page lies inside its collection. */
#include "config/config.h"
#include "rest/rest_params.h"
#include "rest/rest_server.h"
#include "store/store.h"

#include "fuzz.h"
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *cfg;
static struct store *st;
static char *dir;

static void cleanup(void)
{
    store_close(st);
    g_autofree char *db = g_build_filename(dir, "mailman.db", NULL);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *f = g_strconcat(db, suffixes[i], NULL);
        g_unlink(f);
    }
    g_rmdir(dir);
    g_free(dir);
    config_free(cfg);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *err = NULL;
    dir = g_dir_make_tmp("fuzz_rest-XXXXXX", NULL);
    FUZZ_CHECK(dir != NULL);
    g_autofree char *text = g_strdup_printf("[mailman]\nlayout: fuzz\n[paths.fuzz]\nvar_dir: %s\n"
                                            "[webservice]\nadmin_user: u\nadmin_pass: p\n",
                                            dir);
    FUZZ_CHECK(config_load_text(text, "/fuzz/mailman.cfg", "/usr/bin", &cfg, &err) == 0);
    g_autofree char *url = g_strdup_printf("sqlite:///%s/mailman.db", dir);
    FUZZ_CHECK(store_open(url, &st, &err) == 0);
    FUZZ_CHECK(store_domain_create(st, "example.com", NULL, NULL, NULL, &err) == 0);
    FUZZ_CHECK(store_list_create(st, "ant@example.com", NULL, NULL, &err) == 0);
    FUZZ_CHECK(store_member_add(st, "ant.example.com", "anne@example.org", "Anne",
                                STORE_ROLE_MEMBER, STORE_DELIVERY_REGULAR, NULL, &err) == 0);
    FUZZ_CHECK(store_member_add(st, "ant.example.com", "bart@example.org", NULL, STORE_ROLE_OWNER,
                                STORE_DELIVERY_REGULAR, NULL, &err) == 0);
    atexit(cleanup);
    return 0;
}

static bool form_value_ok(json_t *v)
{
    if (json_is_string(v))
        return g_utf8_validate(json_string_value(v), (gssize)json_string_length(v), NULL);
    if (!json_is_array(v) || json_array_size(v) < 2)
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (!json_is_string(e)) return false;
    return true;
}

static void check_page(json_t *params)
{
    static const size_t totals[] = {0, 1, 7, 1000};
    for (size_t i = 0; i < G_N_ELEMENTS(totals); i++) {
        struct rest_page pg;
        char *err = NULL;
        if (rest_page_compute(params, totals[i], &pg, &err) == 0) {
            FUZZ_CHECK(pg.first <= pg.end && pg.end <= totals[i]);
        } else {
            FUZZ_CHECK(err != NULL);
            g_free(err);
        }
    }
}

static void parse_body(const char *body, size_t len)
{
    json_t *form = json_object();
    char *err = NULL;
    if (rest_params_add_form(form, body, len, &err) == 0) {
        const char *k;
        json_t *v;
        json_object_foreach(form, k, v) FUZZ_CHECK(form_value_ok(v));
        check_page(form);
        json_object_foreach(form, k, v)
        {
            char *tmp = NULL;
            const char *t = rest_param_text(v, &tmp);
            long long n;
            if (t != NULL)
                (void)rest_parse_pyint(t, &n);
            g_free(tmp);
        }
    } else {
        g_clear_pointer(&err, g_free);
    }
    json_decref(form);
    json_t *obj = NULL;
    if (rest_params_from_json(body, len, &obj, &err) == 0) {
        FUZZ_CHECK(json_is_object(obj));
        check_page(obj);
        json_decref(obj);
    } else {
        g_free(err);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const types[] = {NULL, "application/json",
                                        "application/x-www-form-urlencoded", "text/plain"};
    const char *ctype = types[data[0] & 3];
    enum rest_method method = (data[0] & 4) ? REST_N_METHODS : REST_GET; /* N: OPTIONS */
    const char *auth = (data[0] & 8) ? NULL : "Basic dTpw";              /* u:p */
    const char *p = (const char *)data + 1, *end = (const char *)data + size;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    char *target = g_strndup(p, (gsize)((nl ? nl : end) - p));
    const char *body = nl ? nl + 1 : end;
    size_t body_len = (size_t)(end - body);
    /* As evhttp hands it over: exactly the bytes, no terminator (so that a
     * read past them is caught), NULL when there are none. */
    char *body_copy = body_len ? g_memdup2(body, body_len) : NULL;

    struct rest_req req;
    char *allow = NULL;
    rest_dispatch(cfg, st, method, target, auth, ctype, body_copy, body_len, &req, &allow);
    FUZZ_CHECK(req.status >= 200 && req.status <= 599);
    rest_req_clear(&req);
    g_free(allow);

    if (body_copy)
        parse_body(body_copy, body_len);
    g_free(body_copy);
    g_free(target);
    return 0;
}
