/*
 * active_orgs: is a school principal's organisation active? A school's token
 * (or certificate) is refused unless its organisation is in the registry with
 * status ACTIVE: registered, neither liquidated nor reorganised. A worker
 * remembers an ACTIVE answer for ACTIVE_ORGS_TTL_MS, so a liquidation binds
 * within that long; a registration binds at once (a refusal is not
 * remembered). While the store cannot answer, an ACTIVE answer up to
 * ACTIVE_ORGS_STALE_MS old still stands, so an outage does not log out the
 * schools working at the time. docs/security.md, "Who can connect".
 */
#ifndef KT_ACTIVE_ORGS_H
#define KT_ACTIVE_ORGS_H

#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"

#define ACTIVE_ORGS_TTL_MS   30000
#define ACTIVE_ORGS_STALE_MS 600000 /* an ACTIVE answer used while the store cannot answer */
#define ACTIVE_ORGS_SLOTS    256    /* organisations remembered per worker */

typedef struct active_orgs active_orgs_t;

active_orgs_t *active_orgs_new(void);
void active_orgs_free(active_orgs_t *c);

/* *active for ogrn, from the cache or the store; false with err (the store's
 * error) when the store cannot answer. Thread-safe. */
bool active_orgs_check(active_orgs_t *c, store_t *store, const char *ogrn, bool *active,
                       kt_error_t *err);

#endif
