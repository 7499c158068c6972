/* rest_lists - see rest_lists.h. */
#include "rest/rest_lists.h"

#include "config/config.h"
#include "lib/log.h"
#include "mail/address.h"
#include "rest/rest_mta.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/list_attr.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

struct store_list *rest_list_of(struct rest_req *req, bool child)
{
    struct store_list *l = NULL;
    char *err = NULL;
    int rc = store_list_get(req->store, rest_arg(req, 0), &l, &err);
    if (rc < 0)
        rest_internal_error(req, "list", err);
    else if (rc == 0 && child)
        rest_no_such_child(req);
    else if (rc == 0)
        rest_not_found(req, NULL);
    g_free(err);
    return l;
}

json_t *rest_list_json(struct rest_req *req, const struct store_list *l, char **err)
{
    int64_t count = 0;
    if (store_member_count(req->store, l->list_id, STORE_ROLE_MEMBER, &count, err) < 0)
        return NULL;
    json_t *r = json_object();
    json_object_set_new(r, "advertised", json_boolean(store_list_attr_bool(l, "advertised")));
    json_object_set_new(r, "display_name", json_string(store_list_attr(l, "display_name")));
    json_object_set_new(r, "fqdn_listname", json_string(l->fqdn_listname));
    json_object_set_new(r, "list_id", json_string(l->list_id));
    json_object_set_new(r, "list_name", json_string(l->list_name));
    json_object_set_new(r, "mail_host", json_string(l->mail_host));
    json_object_set_new(r, "member_count", json_integer(count));
    json_object_set_new(r, "volume", json_integer(store_list_attr_int(l, "volume")));
    json_object_set_new(r, "description", json_string(store_list_attr(l, "description")));
    json_object_set_new(r, "self_link", rest_jstr_take(rest_path_to(req, "lists/%s", l->list_id)));
    return r;
}

/* falcon's get_param_as_bool("advertised"): 1 true, 0 false or absent. */
static int advertised_param(struct rest_req *req)
{
    static const char *const yes[] = {"true", "True", "t", "yes", "y", "1", "on"};
    static const char *const no[] = {"false", "False", "f", "no", "n", "0", "off"};
    json_t *v = json_object_get(req->query, "advertised");
    if (json_is_array(v))
        v = json_array_get(v, json_array_size(v) - 1);
    if (v == NULL || !json_is_string(v) || json_string_length(v) == 0)
        return 0;
    const char *s = json_string_value(v);
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (strcmp(s, yes[i]) == 0)
            return 1;
        if (strcmp(s, no[i]) == 0)
            return 0;
    }
    rest_error(req, 400, "Invalid parameter",
               "The \"advertised\" parameter is invalid. The value of the parameter must be "
               "\"true\" or \"false\".");
    return -1;
}

static void lists_collection(struct rest_req *req, const char *mail_host)
{
    int advertised = advertised_param(req);
    if (advertised < 0)
        return;
    struct store_list **v = NULL;
    char *err = NULL;
    if (store_list_list(req->store, mail_host, advertised == 1, &v, &err) < 0) {
        rest_internal_error(req, "lists", err);
        g_free(err);
        return;
    }
    json_t *entries = json_array();
    for (struct store_list **l = v; *l; l++) {
        json_t *e = rest_list_json(req, *l, &err);
        if (e == NULL) {
            rest_internal_error(req, "lists", err);
            g_free(err);
            json_decref(entries);
            store_listv_free(v);
            return;
        }
        json_array_append_new(entries, e);
    }
    store_listv_free(v);
    rest_ok_collection(req, entries, NULL);
}

void rest_lists_get(struct rest_req *req)
{
    lists_collection(req, NULL);
}

void rest_domain_lists_get(struct rest_req *req)
{
    struct store_domain *d = NULL;
    char *err = NULL;
    int rc = store_domain_get(req->store, rest_arg(req, 0), &d, &err);
    if (rc < 0)
        rest_internal_error(req, "domain", err);
    else if (rc == 0)
        rest_no_such_child(req);
    else
        lists_collection(req, d->mail_host);
    g_free(err);
    store_domain_free(d);
}

/* create_list's checks, in its order, with the REST layer's texts. */
static bool creatable(struct rest_req *req, const char *fqdn)
{
    if (!address_is_valid(fqdn)) {
        rest_bad_request(req, "Invalid list posting address: %s", fqdn);
        return false;
    }
    g_autofree char *name = g_strndup(fqdn, (gsize)(strchr(fqdn, '@') - fqdn));
    g_autofree char *lower = g_ascii_strdown(name, -1);
    if (!address_list_name_ok(lower, config_get(req->cfg, "mailman", "listname_chars"))) {
        rest_bad_request(req, "Invalid list name: %s", name);
        return false;
    }
    struct store_domain *d = NULL;
    char *err = NULL;
    const char *host = strchr(fqdn, '@') + 1;
    int rc = store_domain_get(req->store, host, &d, &err);
    store_domain_free(d);
    if (rc < 0)
        rest_internal_error(req, "lists", err);
    else if (rc == 0)
        rest_bad_request(req, "Domain does not exist: %s", host);
    g_free(err);
    return rc == 1;
}

void rest_lists_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"fqdn_listname", REST_CONV_STR, false, NULL},
        {"style_name", REST_CONV_STR, true, NULL},
    };
    char *err = NULL;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    const char *fqdn = json_string_value(json_object_get(values, "fqdn_listname"));
    const char *style = json_string_value(json_object_get(values, "style_name"));
    /* Mailman applies no style for a name it does not know; crier's
     * lists always have one, so that case gets the default style. */
    if (style && list_attr_style_parse(style) < 0)
        style = NULL;
    struct store_list *l = NULL;
    if (creatable(req, fqdn)) {
        int rc = store_list_create(req->store, fqdn, style, &l, &err);
        if (rc == STORE_EXISTS)
            rest_bad_request(req, "Mailing list exists");
        else if (rc < 0)
            rest_internal_error(req, "lists", err);
        g_clear_pointer(&err, g_free);
    }
    if (l) {
        g_autofree char *path = g_strdup_printf("lists/%s", l->list_id);
        rest_created(req, path);
        if (rest_mta_list_created(req->cfg, req->store, l->list_id, &err) < 0) {
            log_error("rest: list %s: %s", l->fqdn_listname, err);
            g_free(err);
        }
        log_info("rest: created list %s", l->fqdn_listname);
    }
    store_list_free(l);
    json_decref(values);
}

void rest_list_get(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, false);
    if (l == NULL)
        return;
    char *err = NULL;
    json_t *r = rest_list_json(req, l, &err);
    if (r)
        rest_ok(req, r, NULL);
    else
        rest_internal_error(req, "list", err);
    g_free(err);
    store_list_free(l);
}

void rest_list_delete(struct rest_req *req)
{
    struct store_list *l = rest_list_of(req, false);
    if (l == NULL)
        return;
    char *err = NULL;
    if (store_list_remove(req->store, l->list_id, &err) < 0) {
        rest_internal_error(req, "list", err);
    } else {
        rest_no_content(req);
        log_info("rest: removed list %s", l->fqdn_listname);
        if (rest_mta_list_removed(req->cfg, req->store, l->list_id, &err) < 0)
            log_error("rest: list %s: %s", l->fqdn_listname, err);
    }
    g_free(err);
    store_list_free(l);
}

/* Mailman's Styles resource: its three built-in styles, by name. */
void rest_list_styles_get(struct rest_req *req)
{
    static const struct {
        const char *name, *description;
    } styles[] = {
        {"legacy-announce", "Announce only mailing list style."},
        {"legacy-default", "Ordinary discussion mailing list style."},
        {"private-default", "Discussion mailing list style with private archives."},
    };
    json_t *names = json_array(), *all = json_array();
    for (size_t i = 0; i < G_N_ELEMENTS(styles); i++) {
        json_array_append_new(names, json_string(styles[i].name));
        json_array_append_new(all, json_pack("{s:s, s:s}", "name", styles[i].name, "description",
                                             styles[i].description));
    }
    json_t *r = json_object();
    json_object_set_new(r, "style_names", names);
    json_object_set_new(r, "styles", all);
    json_object_set_new(r, "default", json_string(config_get(req->cfg, "styles", "default")));
    rest_ok(req, r, NULL);
}
