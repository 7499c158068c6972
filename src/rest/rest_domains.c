/* rest_domains - see rest_domains.h. */
#include "rest/rest_domains.h"

#include "rest/rest_mta.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include "lib/log.h"

#include <glib.h>

static json_t *domain_json(struct rest_req *req, const struct store_domain *d)
{
    json_t *r = json_object();
    json_object_set_new(r, "alias_domain", rest_jstr_or_null(d->alias_domain));
    json_object_set_new(r, "description", rest_jstr_or_null(d->description));
    json_object_set_new(r, "mail_host", json_string(d->mail_host));
    json_object_set_new(r, "self_link",
                        rest_jstr_take(rest_path_to(req, "domains/%s", d->mail_host)));
    return r;
}

void rest_domains_get(struct rest_req *req)
{
    struct store_domain **v = NULL;
    char *err = NULL;
    if (store_domain_list(req->store, &v, &err) < 0) {
        rest_internal_error(req, "domains", err);
        g_free(err);
        return;
    }
    json_t *entries = json_array();
    for (struct store_domain **d = v; *d; d++)
        json_array_append_new(entries, domain_json(req, *d));
    store_domainv_free(v);
    rest_ok_collection(req, entries, NULL);
}

static int add_owners(struct rest_req *req, const char *mail_host, json_t *owners, char **err)
{
    for (size_t i = 0; i < json_array_size(owners); i++)
        if (store_domain_owner_add(req->store, mail_host,
                                   json_string_value(json_array_get(owners, i)), err) < 0)
            return -1;
    return 0;
}

void rest_domains_post(struct rest_req *req)
{
    static const struct rest_field fields[] = {
        {"mail_host", REST_CONV_STR, false, NULL},
        {"description", REST_CONV_STR, true, NULL},
        {"alias_domain", REST_CONV_STR, true, NULL},
        {"owner", REST_CONV_STRLIST, true, NULL},
    };
    char *err = NULL;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    if (values == NULL)
        return;
    const char *host = json_string_value(json_object_get(values, "mail_host"));
    const char *alias = json_string_value(json_object_get(values, "alias_domain"));
    struct store_domain *d = NULL;
    int rc = store_begin(req->store, &err);
    if (rc >= 0)
        rc = store_domain_create(req->store, host,
                                 json_string_value(json_object_get(values, "description")), alias,
                                 &d, &err);
    if (rc >= 0)
        rc = add_owners(req, d->mail_host, json_object_get(values, "owner"), &err);
    if (rest_store_end(req, rc, &err) >= 0) {
        g_autofree char *path = g_strdup_printf("domains/%s", d->mail_host);
        rest_created(req, path);
        if (alias && *alias && rest_mta_regenerate(req->cfg, req->store, &err) < 0)
            log_error("rest: %s", err);
    }
    g_free(err);
    store_domain_free(d);
    json_decref(values);
}

struct store_domain *rest_domain_of(struct rest_req *req)
{
    struct store_domain *d = NULL;
    char *err = NULL;
    int rc = store_domain_get(req->store, rest_arg(req, 0), &d, &err);
    if (rc < 0)
        rest_internal_error(req, "domain", err);
    else if (rc == 0)
        rest_not_found(req, NULL);
    g_free(err);
    return d;
}

void rest_domain_get(struct rest_req *req)
{
    struct store_domain *d = rest_domain_of(req);
    if (d)
        rest_ok(req, domain_json(req, d), NULL);
    store_domain_free(d);
}

void rest_domain_delete(struct rest_req *req)
{
    char *err = NULL;
    int rc = store_domain_delete(req->store, rest_arg(req, 0), &err);
    if (rc < 0)
        rest_internal_error(req, "domain", err);
    else if (rc == 0)
        rest_not_found(req, NULL);
    else
        rest_no_content(req);
    g_clear_pointer(&err, g_free);
    if (rc > 0 && rest_mta_regenerate(req->cfg, req->store, &err) < 0) {
        log_error("rest: %s", err);
        g_free(err);
    }
}

static void patch_put(struct rest_req *req, bool optional)
{
    const struct rest_field fields[] = {
        {"alias_domain", REST_CONV_STR, optional, NULL},
        {"description", REST_CONV_STR, optional, NULL},
        {"owner", REST_CONV_STRLIST, optional, NULL},
    };
    struct store_domain *d = rest_domain_of(req);
    if (d == NULL)
        return;
    char *err = NULL;
    json_t *values = rest_values(req, fields, G_N_ELEMENTS(fields));
    int rc = 0;
    if (values == NULL) {
        store_domain_free(d);
        return;
    }
    json_t *alias = json_object_get(values, "alias_domain");
    json_t *desc = json_object_get(values, "description");
    rc = store_begin(req->store, &err);
    if (rc >= 0 && alias)
        rc =
            store_domain_set_alias_domain(req->store, d->mail_host, json_string_value(alias), &err);
    if (rc >= 0 && desc)
        rc = store_domain_set_description(req->store, d->mail_host, json_string_value(desc), &err);
    if (rc >= 0)
        rc = add_owners(req, d->mail_host, json_object_get(values, "owner"), &err);
    rc = rest_store_end(req, rc, &err);
    if (rc >= 0)
        rest_no_content(req);
    if (rc >= 0 && alias && rest_mta_regenerate(req->cfg, req->store, &err) < 0) {
        log_error("rest: %s", err);
        g_free(err);
    }
    json_decref(values);
    store_domain_free(d);
}

void rest_domain_put(struct rest_req *req)
{
    patch_put(req, false);
}

void rest_domain_patch(struct rest_req *req)
{
    patch_put(req, true);
}
