/*
 * kind: what tells one kind of versioned record from another, for the one
 * implementation of versioning in store/ (students.c reads, write.c writes,
 * verify.c checks). Every kind is kept the same way (docs/storage.md):
 * versions keyed "<id>:<10-digit version>" inserted as the lock, a SHA-256
 * hash chain, a head that readers roll forward, as_of by binary search,
 * field-level changes. A kind says only where its records live, what its id
 * looks like, what its head carries for searches, which keys it must keep
 * unique, and whether its changes enter the change feed and its reads the
 * access log.
 */
#ifndef KT_STORE_KIND_H
#define KT_STORE_KIND_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/error.h"

typedef struct store_kind {
    const char *name;      /* "student", "organization": messages and verify's lines */
    const char *versions;  /* collection of the immutable versions */
    const char *heads;     /* collection of the heads */
    const char *id_member; /* the record id's member in versions, claims and feed entries */
    bool (*valid_id)(const char *id);
    /* Appends the head's search members for the current document (between
     * "state" and "updated_at"). */
    void (*head_keys)(const bson_t *doc, bson_t *head);
    /* The claim keys ("snils:…", "doc:…") a document holds, up to max, in
     * arena; NULL when the kind keeps nothing unique but its id. */
    size_t (*claim_keys)(arena_t *arena, const bson_t *doc, const char **keys, size_t max);
    /* A create naming an id that exists (ids given by the client, as an
     * organisation's ОГРН): this code, 409, with the id as err->ref. */
    kt_code_t duplicate_id;
    bool feed;   /* each version gets a change-feed entry (store/feed.h) */
    bool logged; /* reads are personal data: the handlers write access-log rows */
} store_kind_t;

/* Students: uuid ids assigned by the server, СНИЛС and documents claimed,
 * in the feed, reads logged. */
extern const store_kind_t store_kind_student;

/* Organisations: the ОГРН is the id, not in the feed, reads not logged
 * (store/organizations.h). */
extern const store_kind_t store_kind_organization;

/* Current progress: one record per student and academic year, a derived
 * uuid id, not in the feed, reads logged (store/progress.h). */
extern const store_kind_t store_kind_progress;

#endif
