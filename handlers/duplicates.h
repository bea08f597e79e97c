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
 * scoring at or above the threshold and returns the value of the answer's
 * X-Probable-Duplicates header — "<pair>;score=<n>[;student=<id>]" per
 * pair, comma-separated (student= only for a candidate the principal may
 * see; those are access-logged) — in the request's arena; NULL when nothing
 * was flagged. The body stays the stored student. The create stands
 * whatever happens here: a failure is logged for operators (NULL).
 */
const char *duplicates_after_create(const app_t *app, request_t *req, store_conn_t *conn,
                                    const write_meta_t *meta, const char *id, const bson_t *doc);

#endif
