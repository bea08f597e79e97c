/*
 * test_family: the families' service (service/family.h) on a fresh SQLite
 * store — exactly the allowed members, the children by the representatives'
 * СНИЛС, deleted and foreign students as nobody's, the person themself from
 * the 14th birthday (29 February included), pages of 50.
 */
#include <stdio.h>
#include <string.h>

#include "auth/principal.h"
#include "check.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "service/family.h"
#include "store/kind.h"
#include "store/records.h"
#include "tmp_store.h"

#define PARENT "11223344595"
#define FATHER "12345678964"
#define TEEN   "13579246801"
#define ORG    "1027700132195"

static principal_t admin = {.subject = "test", .role = ROLE_ADMIN, .method = AUTH_TOKEN};
static const write_meta_t meta = {.principal = &admin, .request_id = "test_family"};
static store_t *store;
static arena_t *A;

static const json_limits_t limits = {.max_depth = 32, .max_string = 1 << 20, .max_nodes = 100000};

static void
put_org(store_conn_t *conn)
{
    bson_t doc = BSON_INITIALIZER;
    write_result_t out;
    kt_error_t err;

    BSON_APPEND_UTF8(&doc, "short_name", "Гимназия № 7");
    BSON_APPEND_UTF8(&doc, "full_name", "МБОУ «Гимназия № 7»");
    BSON_APPEND_UTF8(&doc, "inn", "1655000000");
    kt_error_clear(&err);
    CHECK(store_record_write(conn, &store_kind_organization, WRITE_CREATE, ORG, 0, &doc, &meta,
                             &out, &err));
    bson_destroy(&doc);
}

/* A student with the given own СНИЛС (or none), birth date and
 * representatives (kind, СНИЛС pairs; NULL ends), enrolled in grade 3 «В». */
static void
student(bson_t *doc, const char *snils, const char *birth, const char *const *reps)
{
    bson_t arr, rep, eps, ep;
    char idx[16];

    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", "Сидоров");
    BSON_APPEND_UTF8(doc, "first_name", "Антон");
    BSON_APPEND_UTF8(doc, "birth_date", birth);
    BSON_APPEND_UTF8(doc, "birth_place", "г. Казань");
    if (snils != NULL)
        BSON_APPEND_UTF8(doc, "snils", snils);
    BSON_APPEND_ARRAY_BEGIN(doc, "representatives", &arr);
    for (int i = 0; reps[2 * i] != NULL; i++) {
        snprintf(idx, sizeof idx, "%d", i);
        BSON_APPEND_DOCUMENT_BEGIN(&arr, idx, &rep);
        BSON_APPEND_UTF8(&rep, "kind", reps[2 * i]);
        BSON_APPEND_UTF8(&rep, "last_name", "Петров");
        BSON_APPEND_UTF8(&rep, "phone", "+79005550202");
        BSON_APPEND_UTF8(&rep, "snils", reps[2 * i + 1]);
        bson_append_document_end(&arr, &rep);
    }
    bson_append_array_end(doc, &arr);
    BSON_APPEND_UTF8(doc, "organization", ORG);
    BSON_APPEND_ARRAY_BEGIN(doc, "education", &eps);
    BSON_APPEND_DOCUMENT_BEGIN(&eps, "0", &ep);
    BSON_APPEND_INT32(&ep, "episode", 1);
    BSON_APPEND_UTF8(&ep, "organization", ORG);
    BSON_APPEND_UTF8(&ep, "level", "NOO");
    BSON_APPEND_INT32(&ep, "grade", 3);
    BSON_APPEND_UTF8(&ep, "class_letter", "В");
    BSON_APPEND_UTF8(&ep, "status", "ACTIVE");
    bson_append_document_end(&eps, &ep);
    bson_append_array_end(doc, &eps);
}

static void
create(store_conn_t *conn, const char *snils, const char *birth, const char *const *reps,
       char id[40])
{
    bson_t doc;
    write_result_t out;
    kt_error_t err;

    student(&doc, snils, birth, reps);
    kt_error_clear(&err);
    CHECK(store_student_write(conn, WRITE_CREATE, NULL, 0, &doc, &meta, &out, &err));
    snprintf(id, 40, "%s", out.id);
    bson_destroy(&doc);
}

/* family_list's answer, parsed; shown filled. */
static json_value_t *
list(store_conn_t *conn, const char *snils, const char *today, const char *after,
     family_shown_t *shown, char **text)
{
    buf_t b;
    jw_t w;
    json_value_t *v = NULL;
    kt_error_t err;

    buf_init(&b, 0);
    jw_init(&w, &b);
    kt_error_clear(&err);
    CHECK(family_list(conn, A, snils, today, after, &w, shown, &err));
    CHECK(json_parse(A, b.data, b.len, &limits, &v, NULL));
    *text = arena_strdup(A, b.data);
    buf_release(&b);
    return v;
}

static size_t
count(const json_value_t *arr)
{
    size_t n = 0;

    for (const json_value_t *c = arr != NULL ? arr->child : NULL; c != NULL; c = c->next)
        n++;
    return n;
}

static void
test_children_and_nothing_else(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    const char *both[] = {"MOTHER", PARENT, "FATHER", FATHER, NULL};
    char a[40], gone[40], *text;
    bool text_ok;
    family_shown_t shown;
    json_value_t *v, *item;
    write_result_t out;
    kt_error_t err;
    static const char *const members[] = {"id",          "relation",   "last_name", "first_name",
                                          "middle_name", "birth_date", "school",    "class"};

    put_org(conn);
    create(conn, "10000000001", "2016-04-01", both, a);
    create(conn, NULL, "2017-04-01", both, gone);
    kt_error_clear(&err);
    CHECK(store_student_write(conn, WRITE_DELETE, gone, 0, NULL, &meta, &out, &err));
    v = list(conn, PARENT, "2026-12-07", NULL, &shown, &text);
    CHECK_INT(count(json_get(v, "items")), 1);
    CHECK_INT(shown.n, 1);
    CHECK_STR(shown.ids[0], a);
    item = json_get(v, "items")->child;
    CHECK_INT(count(item), sizeof members / sizeof *members);
    for (size_t i = 0; i < sizeof members / sizeof *members; i++)
        CHECK(json_get(item, members[i]) != NULL);
    CHECK(strstr(text, "\"relation\":\"MOTHER\"") != NULL);
    CHECK(strstr(text, "\"short_name\":\"Гимназия № 7\"") != NULL);
    CHECK(strstr(text, "\"class\":{\"level\":\"NOO\",\"grade\":3,\"class_letter\":\"В\","
                       "\"status\":\"ACTIVE\"}") != NULL);
    /* Nothing beyond the allow-list: no СНИЛС, representatives, birth place. */
    text_ok = strstr(text, "10000000001") == NULL && strstr(text, FATHER) == NULL &&
              strstr(text, "Петров") == NULL && strstr(text, "+7900") == NULL &&
              strstr(text, "Казань\"") == NULL && strstr(text, "snils") == NULL;
    CHECK(text_ok);
    v = list(conn, FATHER, "2026-12-07", NULL, &shown, &text);
    CHECK(strstr(text, "\"relation\":\"FATHER\"") != NULL);
    /* A stranger: the same empty list as anyone's. */
    v = list(conn, "99999999999", "2026-12-07", NULL, &shown, &text);
    CHECK_STR(text, "{\"items\":[],\"next_cursor\":null}");
    CHECK_INT(shown.n, 0);
    store_conn_push(conn);
}

static const char *
child_text(store_conn_t *conn, const char *snils, const char *today, const char *id,
           kt_code_t *code)
{
    buf_t b;
    jw_t w;
    kt_error_t err;
    const char *text = NULL;

    buf_init(&b, 0);
    jw_init(&w, &b);
    kt_error_clear(&err);
    if (family_child(conn, A, snils, today, id, NULL, NULL, &w, &err))
        text = arena_strdup(A, b.data);
    *code = err.code;
    buf_release(&b);
    return text;
}

static void
test_self_from_14(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    const char *none[] = {NULL};
    char teen[40], *text;
    family_shown_t shown;
    kt_code_t code;

    create(conn, TEEN, "2012-02-29", none, teen);
    /* Born on 29 February: 14 on 1 March of a common year, not on the 28th. */
    list(conn, TEEN, "2026-02-28", NULL, &shown, &text);
    CHECK_INT(shown.n, 0);
    CHECK(child_text(conn, TEEN, "2026-02-28", teen, &code) == NULL);
    CHECK_INT(code, KT_NOT_FOUND);
    list(conn, TEEN, "2026-03-01", NULL, &shown, &text);
    CHECK_INT(shown.n, 1);
    CHECK(strstr(text, "\"relation\":\"SELF\"") != NULL);
    CHECK(child_text(conn, TEEN, "2026-03-01", teen, &code) != NULL);
    /* Not someone else's: the parent of nobody here sees no such child. */
    CHECK(child_text(conn, PARENT, "2026-03-01", teen, &code) == NULL);
    CHECK_INT(code, KT_NOT_FOUND);
    CHECK(child_text(conn, PARENT, "2026-03-01", "00000000-0000-4000-8000-000000000000", &code) ==
          NULL);
    CHECK_INT(code, KT_NOT_FOUND);
    store_conn_push(conn);
}

/* A guardian of FAMILY_PAGE + 1 children: two pages. */
static void
test_pages(void)
{
    store_conn_t *conn = store_conn_pop(store, STORE_POOL_BATCH);
    const char *guardian[] = {"GUARDIAN", "20000000002", NULL};
    char id[40], *text;
    family_shown_t shown;
    json_value_t *v, *cursor;

    for (int i = 0; i < FAMILY_PAGE + 1; i++)
        create(conn, NULL, "2015-01-01", guardian, id);
    v = list(conn, "20000000002", "2026-12-07", NULL, &shown, &text);
    CHECK_INT(shown.n, FAMILY_PAGE);
    cursor = json_get(v, "next_cursor");
    CHECK(cursor != NULL && cursor->type == JSON_STRING);
    if (cursor == NULL || cursor->type != JSON_STRING)
        goto done;
    v = list(conn, "20000000002", "2026-12-07", arena_strdup(A, cursor->str), &shown, &text);
    CHECK_INT(shown.n, 1);
    CHECK(json_get(v, "next_cursor")->type == JSON_NULL);
done:
    store_conn_push(conn);
}

int
main(void)
{
    char dir[512], path[600];

    store = tmp_store_open("family", dir, path);
    A = arena_new(64u << 20);
    CHECK(store != NULL && A != NULL);
    if (store == NULL || A == NULL)
        return 1;
    CHECK_RUN(test_children_and_nothing_else);
    CHECK_RUN(test_self_from_14);
    CHECK_RUN(test_pages);
    store_free(store);
    arena_free(A);
    tmp_store_remove(dir);
    CHECK_MAIN_END();
}
