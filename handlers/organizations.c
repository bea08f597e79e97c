/*
 * organizations: /api/v1/organizations — the registry of schools: create,
 * read (also as of a time, JSON or XML), replace, merge-patch, history,
 * versions and the filtered list. The ОГРН is the id. `region` and `admin`
 * write; every authenticated role reads. No DELETE: an organisation's
 * lifecycle is its `status`. The shared handlers are handlers/records.c;
 * versioning is the store's, kind store_kind_organization.
 */
#include <string.h>

#include "handlers/common.h"
#include "handlers/handlers.h"
#include "service/organizations.h"
#include "handlers/records.h"
#include "model/organization.h"
#include "model/calendar.h"
#include "model/validators.h"
#include "model/xmlio.h"
#include "store/organizations.h"
#include "store/records.h"
#include "store/util.h"

static const char *const org_types[] = {"SCHOOL", "KINDERGARTEN", "SPO", "DOP", "OTHER", NULL};
static const char *const org_statuses[] = {"ACTIVE", "REORGANIZED", "LIQUIDATED", NULL};

static bool
load(const app_t *app, request_t *req, store_conn_t *conn, record_t *s, kt_error_t *err)
{
    return store_record_get(conn, &store_kind_organization, req->params[0], s, err);
}

static bool
validate(const app_t *app, request_t *req, store_conn_t *conn, const json_value_t *body,
         const bson_t *cur, bson_t *doc, kt_error_t *err)
{
    char today[11];

    date_today(today);
    return organization_from_json(req->arena, body, today, doc, err) &&
           organizations_check_refs(conn, req->arena, doc, cur, err);
}

static const char *
new_id(const bson_t *doc)
{
    return util_get_str(doc, "ogrn");
}

static bool
write_xml(xmlTextWriterPtr w, const record_t *s)
{
    return xmlio_write_organization(w, s->version, &s->doc);
}

static const record_resource_t organizations_resource = {
    .kind = &store_kind_organization,
    .location = "/api/v1/organizations/",
    .with_state = false,
    .load = load,
    .validate = validate,
    .new_id = new_id,
    .write_xml = write_xml,
};

bool
handle_organization_create(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_create(app, req, res, &organizations_resource, err);
}

bool
handle_organization_get(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_get(app, req, res, &organizations_resource, err);
}

bool
handle_organization_put(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_update(app, req, res, &organizations_resource, false, err);
}

bool
handle_organization_patch(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_update(app, req, res, &organizations_resource, true, err);
}

bool
handle_organization_history(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_history(app, req, res, &organizations_resource, err);
}

bool
handle_organization_version(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    return records_version(app, req, res, &organizations_resource, err);
}

/* --- the list ------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *value;
} filter_t;

#define LIST_FILTERS 4

static bool
in_list(const char *v, const char *const *values)
{
    for (size_t i = 0; values[i] != NULL; i++)
        if (strcmp(v, values[i]) == 0)
            return true;
    return false;
}

/* The filters given, each checked for its shape (400 FORMAT otherwise). */
static bool
list_filters(const request_t *req, filter_t *f, kt_error_t *err)
{
    static const char *const names[LIST_FILTERS] = {"oktmo", "type", "status", "parent"};
    const char *cursor = request_query(req, "cursor");

    for (int i = 0; i < LIST_FILTERS; i++) {
        const char *v = request_query(req, names[i]);
        f[i].name = names[i];
        f[i].value = v;
        bool ok = v == NULL || (i == 0   ? oktmo_valid(v)
                                : i == 1 ? in_list(v, org_types)
                                : i == 2 ? in_list(v, org_statuses)
                                         : strlen(v) == 13 && ogrn_valid(v));
        if (!ok) {
            kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400, "%s: not a valid value",
                                names[i]);
            return false;
        }
    }
    if (cursor != NULL && !(strlen(cursor) == 13 && ogrn_valid(cursor))) {
        kt_error_set_status(err, KT_DOMAIN_INPUT, KT_FORMAT, 400,
                            "cursor is not an OGRN of this list");
        return false;
    }
    return true;
}

/* The current version still matches (heads are hints). */
static bool
still_matches(const filter_t *f, const record_t *s)
{
    for (int i = 0; i < LIST_FILTERS; i++) {
        const char *v = util_get_str(&s->doc, f[i].name);
        if (f[i].value != NULL && (v == NULL || strcmp(v, f[i].value) != 0))
            return false;
    }
    return true;
}

static bool
write_page(const app_t *app, store_conn_t *conn, const filter_t *f, char (*ids)[40], int n, jw_t *w,
           kt_error_t *err)
{
    for (int i = 0; i < n; i++) {
        record_t s;
        kt_error_t e;
        kt_error_clear(&e);
        record_init(&s);
        bool ok = store_record_get(conn, &store_kind_organization, ids[i], &s, &e);
        if (ok && still_matches(f, &s))
            records_write_json(w, &organizations_resource, s.id, s.version, false, &s.doc);
        record_release(&s);
        if (!ok && e.code != KT_NOT_FOUND) {
            *err = e;
            return false;
        }
    }
    return true;
}

bool
handle_organization_list(const app_t *app, request_t *req, response_t *res, kt_error_t *err)
{
    store_conn_t *conn = handler_conn(app, req);
    char(*ids)[40] = arena_alloc(req->arena, sizeof(*ids) * LIST_LIMIT_MAX);
    filter_t f[LIST_FILTERS];
    bson_t filter = BSON_INITIALIZER;
    int limit = 0, n = 0;
    jw_t w;
    bool ok = false;

    if (conn == NULL || ids == NULL || !handler_limit(req, &limit, err) ||
        !list_filters(req, f, err))
        goto done;
    for (int i = 0; i < LIST_FILTERS; i++)
        if (f[i].value != NULL)
            BSON_APPEND_UTF8(&filter, f[i].name, f[i].value);
    if (!store_record_find_ids(conn, &store_kind_organization, &filter,
                               request_query(req, "cursor"), limit, ids, &n, err))
        goto done;
    response_reset(res, 200, "application/json");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    jw_key(&w, "items");
    jw_array_begin(&w);
    if (!write_page(app, conn, f, ids, n, &w, err))
        goto done;
    jw_array_end(&w);
    jw_key(&w, "next_cursor");
    jw_string(&w, n == limit ? arena_strdup(req->arena, ids[n - 1]) : NULL);
    jw_object_end(&w);
    ok = true;
done:
    bson_destroy(&filter);
    return ok;
}
