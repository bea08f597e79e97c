/*
 * duplicates: the HTTP of probable duplicates (docs/duplicates.md) — the
 * candidates of one student, the open pairs for the region's operators,
 * dismissing a pair, and the flag a create of a student carries. The search
 * and the score are the service's (service/duplicates.h).
 */
#ifndef KT_HANDLERS_DUPLICATES_H
#define KT_HANDLERS_DUPLICATES_H

#include <bson/bson.h>

#include "http/router.h"
#include "store/records.h"

/*
 * After student id was created with doc: stores a pair for each candidate
 * scoring at or above the threshold and appends to extra
 * "duplicates": [{pair, score, student_id, agree}] (student_id and agree
 * only of candidates the principal may see; those are access-logged). The
 * create stands whatever happens here: a failure is logged for operators
 * and the answer has no "duplicates".
 */
void duplicates_after_create(const app_t *app, request_t *req, store_conn_t *conn,
                             const write_meta_t *meta, const char *id, const bson_t *doc,
                             bson_t *extra);

#endif
