/* rest_unsubscribe - see rest_unsubscribe.h. */
#include "rest/rest_unsubscribe.h"

#include "rest/rest_lists.h"
#include "rest/rest_server.h"
#include "rest/rest_validate.h"
#include "store/store.h"

#include <glib.h>
#include <string.h>

/* 1 removed, 0 not a member (or not spelled as stored), < 0 error. */
static int unsubscribe_one(struct rest_req *req, const char *list_id, const char *email, char **err)
{
    g_autofree char *lower = g_utf8_strdown(email, -1);
    if (strcmp(lower, email) != 0)
        return 0;
    return store_member_remove(req->store, list_id, email, STORE_ROLE_MEMBER, err);
}

void rest_roster_delete(struct rest_req *req)
{
    static const struct rest_field fields[] = {{"emails", REST_CONV_STRLIST, false, NULL}};
    if (store_role_parse(rest_arg(req, 1)) <= 0) {
        rest_no_such_child(req);
        return;
    }
    json_t *values = NULL;
    struct store_list *l = rest_list_with_values(req, fields, G_N_ELEMENTS(fields), &values);
    if (l == NULL)
        return;
    json_t *status = json_object();
    char *err = NULL;
    int rc = store_begin(req->store, &err);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(values, "emails"), i, v)
    {
        const char *email = json_string_value(v);
        if (rc < 0 || json_object_get(status, email) != NULL)
            continue;
        rc = unsubscribe_one(req, l->list_id, email, &err);
        json_object_set_new(status, email, json_boolean(rc > 0));
    }
    if (rest_store_end(req, rc, &err) >= 0)
        rest_ok(req, status, NULL);
    else
        json_decref(status);
    json_decref(values);
    store_list_free(l);
}
