/* test_store_error: which store errors mean "retry later" (503) and which are
 * ours (500) — mongo_error() in store/store.c, issue 12 items 7 and 17. */
#include "store/mongo/mongo.h"

#include <string.h>

#include "check.h"

static bson_error_t
make(uint32_t domain, uint32_t code, const char *message)
{
    bson_error_t e;

    memset(&e, 0, sizeof e);
    e.domain = domain;
    e.code = code;
    bson_strncpy(e.message, message, sizeof e.message);
    return e;
}

static void
check_status(bson_error_t e, int status, kt_code_t code)
{
    kt_error_t err;

    kt_error_clear(&err);
    mongo_error(&err, &e, "students");
    CHECK_INT(err.status, status);
    CHECK_INT(err.code, code);
    CHECK_INT(err.domain, KT_DOMAIN_STORE);
}

/* FerretDB 1.24's answer to an insert on a full disk, as seen on a filled tmpfs. */
static void
test_ferretdb_full_disk_is_503(void)
{
    check_status(make(MONGOC_ERROR_SERVER, 1,
                      "[msg_insert.go:168 handler.(*Handler).MsgInsert] [db.go:167 "
                      "fsql.(*DB).InTransaction] database or disk is full (13)"),
                 503, KT_STORE_UNAVAILABLE);
    check_status(make(MONGOC_ERROR_SERVER, 1, "disk I/O error (10)"), 503, KT_STORE_UNAVAILABLE);
    check_status(make(MONGOC_ERROR_SERVER, 1, "attempt to write a readonly database (8)"), 503,
                 KT_STORE_UNAVAILABLE);
}

static void
test_mongodb_codes_are_503(void)
{
    check_status(make(MONGOC_ERROR_SERVER, 14031, "OutOfDiskSpace"), 503, KT_STORE_UNAVAILABLE);
    check_status(make(MONGOC_ERROR_SERVER, 10107, "not primary"), 503, KT_STORE_UNAVAILABLE);
    check_status(make(MONGOC_ERROR_WRITE_CONCERN, 64, "waiting for replication timed out"), 503,
                 KT_STORE_UNAVAILABLE);
}

/* A socket timeout (a frozen store) and a failed server selection. */
static void
test_connection_errors_are_503(void)
{
    check_status(make(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET,
                      "Failed to send \"find\" command with database \"kontingent\": socket error "
                      "or timeout"),
                 503, KT_STORE_UNAVAILABLE);
    check_status(make(MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE,
                      "No suitable servers found"),
                 503, KT_STORE_UNAVAILABLE);
}

/* Our own mistakes stay 500: a bad command, a bad document; and a code that
 * means "unavailable" on the server is not read into a client-side domain. */
static void
test_our_errors_stay_500(void)
{
    check_status(make(MONGOC_ERROR_SERVER, 2, "BadValue: unknown operator"), 500, KT_INTERNAL);
    check_status(make(MONGOC_ERROR_SERVER, 1, "InternalError: unexpected type"), 500, KT_INTERNAL);
    check_status(make(MONGOC_ERROR_BSON, 50, "invalid document"), 500, KT_INTERNAL);
}

int
main(void)
{
    CHECK_RUN(test_ferretdb_full_disk_is_503);
    CHECK_RUN(test_mongodb_codes_are_503);
    CHECK_RUN(test_connection_errors_are_503);
    CHECK_RUN(test_our_errors_stay_500);
    CHECK_MAIN_END();
}
