/* progress: reads and writes of a student's current progress (service/progress.h). */
#include "service/progress.h"

#include <string.h>

#include "model/progress.h"
#include "service/write.h"
#include "store/progress.h"
#include "store/util.h"

static bool
no_student(kt_error_t *err)
{
    kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND, "no such student");
    return false;
}

/* The student's current version, when who may see it; 404 otherwise. */
static bool
visible_student(store_conn_t *conn, const principal_t *who, const char *student_id,
                record_t *student, kt_error_t *err)
{
    const char *org;

    if (student_id == NULL || !util_is_uuid(student_id))
        return no_student(err);
    if (!store_student_get(conn, student_id, student, err))
        return false;
    if (student->deleted)
        return no_student(err);
    org = util_get_str(&student->doc, "organization");
    if (who != NULL && who->role == ROLE_SCHOOL && (org == NULL || strcmp(org, who->org) != 0))
        return no_student(err);
    return true;
}

/* The record id of (student, year); 404 for a year that is not one. */
static bool
record_id(const char *student_id, const char *year, char id[37], kt_error_t *err)
{
    if (!progress_year_valid(year)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_NOT_FOUND,
                     "no such academic year (YYYY-YYYY, two consecutive years)");
        return false;
    }
    if (!store_progress_id(student_id, year, id)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot derive the progress id");
        return false;
    }
    return true;
}

bool
service_progress_get(store_conn_t *conn, const principal_t *who, const char *student_id,
                     const char *year, const char *as_of, record_t *out, kt_error_t *err)
{
    record_t student;
    char id[37];
    bool ok;

    record_init(&student);
    ok = visible_student(conn, who, student_id, &student, err) &&
         record_id(student_id, year, id, err) &&
         (as_of != NULL ? store_record_as_of(conn, &store_kind_progress, id, as_of, out, err)
                        : store_record_get(conn, &store_kind_progress, id, out, err));
    record_release(&student);
    return ok;
}

/* The document to store from the body (merged into cur when asked). */
static bool
compose(arena_t *arena, const progress_put_t *p, const char *org, const record_t *cur, bson_t *doc,
        kt_error_t *err)
{
    const json_value_t *tree = p->body;

    if (p->merge && cur != NULL) {
        tree = progress_merge(arena, &cur->doc, p->body);
        if (tree == NULL) {
            kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE,
                         "out of memory merging the progress");
            return false;
        }
    }
    bson_reinit(doc);
    return progress_from_json(arena, tree, p->student_id, p->year, org, doc, err);
}

/* One attempt: read the record, compose, create or update. */
static bool
put_once(store_conn_t *conn, arena_t *arena, const progress_put_t *p, const char *id,
         const char *org, bson_t *doc, write_result_t *out, bool *created, kt_error_t *err)
{
    record_t cur;
    kt_error_t e;
    bool ok, exists;

    record_init(&cur);
    kt_error_clear(&e);
    ok = store_record_get(conn, &store_kind_progress, id, &cur, &e);
    exists = ok;
    if (!ok && e.code != KT_NOT_FOUND) {
        *err = e;
        goto done;
    }
    if (!exists && p->expected != 0) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VERSION_CONFLICT,
                     "If-Match names a version of a progress record that does not exist");
        snprintf(err->ref, sizeof err->ref, "0");
        ok = false;
        goto done;
    }
    ok = compose(arena, p, org, exists ? &cur : NULL, doc, err) &&
         store_record_write(conn, &store_kind_progress, exists ? WRITE_UPDATE : WRITE_CREATE, id,
                            exists ? (p->expected ? p->expected : cur.version) : 0, doc, p->meta,
                            out, err);
    *created = ok && !exists;
done:
    record_release(&cur);
    return ok;
}

/* The student's organisation: a progress record belongs to a school. */
static bool
student_org(arena_t *arena, const record_t *student, const char **org, kt_error_t *err)
{
    *org = util_get_str(&student->doc, "organization");
    if (*org != NULL && (*org)[0] != '\0')
        return true;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION,
                 "Данные успеваемости не прошли проверку (ошибок: 1)");
    kt_error_add_field(err, arena, "/organization", KT_REQUIRED,
                       "Обучающийся не числится ни в одной организации");
    return false;
}

/* Region, schools and admins write progress, as education data; the
 * ministries and auditors read it (docs/security.md). The route table says
 * the same for the API; packages reach here with any writer's role. */
static bool
may_write(const principal_t *who, kt_error_t *err)
{
    if (who == NULL || who->role == ROLE_REGION || who->role == ROLE_SCHOOL ||
        who->role == ROLE_ADMIN)
        return true;
    kt_error_set(err, KT_DOMAIN_AUTH, KT_FORBIDDEN, "this role may not write progress");
    return false;
}

bool
service_progress_put(store_conn_t *conn, arena_t *arena, const progress_put_t *p, bson_t *doc,
                     write_result_t *out, bool *created, kt_error_t *err)
{
    record_t student;
    const char *org = NULL;
    char id[37];
    bool ok = false;

    *created = false;
    record_init(&student);
    if (!may_write(p->who, err) || !visible_student(conn, p->who, p->student_id, &student, err) ||
        !record_id(p->student_id, p->year, id, err) || !student_org(arena, &student, &org, err))
        goto done;
    for (int attempt = 0; attempt < SERVICE_WRITE_RETRIES; attempt++) {
        kt_error_clear(err);
        ok = put_once(conn, arena, p, id, org, doc, out, created, err);
        /* Without If-Match, another writer's version N+1 (or first version)
         * between our read and write: read again. */
        if (ok || p->expected != 0 || err->code != KT_VERSION_CONFLICT)
            break;
    }
done:
    record_release(&student);
    return ok;
}
