/*
 * error: the one error type of Kontingent, in the shape of bson_error_t.
 *
 * Functions that can fail take a nullable `kt_error_t *` as their last
 * argument and return bool. The domain says where the error came from, the
 * code is the stable machine code of DATA-MODEL.md ("Errors"), the status is
 * the HTTP status it maps to. Field-level errors (validation) are attached as
 * a list that lives in the request arena; problem.c turns all of it into
 * problem+json in one place.
 */
#ifndef KT_ERROR_H
#define KT_ERROR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    KT_DOMAIN_NONE = 0,
    KT_DOMAIN_INPUT,    /* the request: body, query, headers */
    KT_DOMAIN_AUTH,     /* authentication and authorisation */
    KT_DOMAIN_STORE,    /* the MongoDB-compatible store */
    KT_DOMAIN_XML,      /* XML packages */
    KT_DOMAIN_INTERNAL, /* our own bugs and resource exhaustion */
    KT_DOMAIN__MAX
} kt_domain_t;

/* Stable machine codes. Keep in step with kt_code_name() and docs/api.md. */
typedef enum {
    KT_OK = 0,
    KT_REQUIRED,
    KT_FORMAT,
    KT_UNKNOWN_FIELD,
    KT_ENUM,
    KT_DATE_RANGE,
    KT_DATE_ORDER,
    KT_SNILS_CHECKSUM,
    KT_OGRN_CHECKSUM,
    KT_INN_CHECKSUM,
    KT_DUPLICATE_SNILS,
    KT_DUPLICATE_DOCUMENT,
    KT_DUPLICATE_OGRN, /* an organisation with this ОГРН exists (409) */
    KT_REF_NOT_FOUND,  /* a reference names no active record (422) */
    /* A write matched a record of another person (409, service/identity.h). */
    KT_IDENTITY_CONFLICT,
    /* Merge and unmerge (service/merge.h). */
    KT_MERGED,           /* the record was merged into another (301 on GET) */
    KT_MERGE_CONFLICT,   /* fields that differ and `prefer` does not resolve (422) */
    KT_MERGE_SELF,       /* a record named as its own duplicate (422) */
    KT_MERGE_STATE,      /* a side is deleted or merged already (409) */
    KT_ALREADY_MERGED,   /* the pair is merged already (409) */
    KT_NOT_MERGED,       /* unmerge of a pair that is not merged (409) */
    KT_UNMERGE_CONFLICT, /* changes since the merge touch the merged fields (409) */
    KT_VERSION_CONFLICT,
    KT_NOT_FOUND,
    KT_GONE,
    KT_FORBIDDEN,
    KT_UNAUTHENTICATED,
    KT_PAYLOAD_TOO_LARGE,
    KT_UNSUPPORTED_MEDIA_TYPE,
    KT_MALFORMED,
    KT_DUPLICATE_PACKET,
    KT_XSD,
    /* Education events (docs/enrolment.md). */
    KT_EPISODE_OPEN,
    KT_NO_OPEN_EPISODE,
    KT_EPISODE_STATE,
    KT_READ_ONLY,
    KT_METHOD_NOT_ALLOWED,
    KT_NOT_ACCEPTABLE,
    KT_PRECONDITION_REQUIRED,
    KT_VALIDATION,
    KT_STORE_UNAVAILABLE,
    KT_UNAVAILABLE,        /* nginx: the workers are down or overloaded */
    KT_KEY_UNAVAILABLE,    /* health data: the key file or the key it needs is missing */
    KT_INTEGRITY,          /* health data: a ciphertext that does not authenticate */
    KT_FEED_EPOCH_CHANGED, /* a cursor or ETag of before a restore (410 feed, 412 If-Match) */
    KT_INTERNAL,
    KT_CODE__MAX
} kt_code_t;

/* One field-level error: a JSON Pointer (or XPath) into the input. */
typedef struct kt_field_error {
    char *pointer;
    kt_code_t code;
    char *message;    /* English, NULL for the code's title */
    char *message_ru; /* Russian (core/msg.h), NULL when message is */
    struct kt_field_error *next;
} kt_field_error_t;

#define KT_ERROR_MESSAGE_MAX 256

typedef struct {
    kt_domain_t domain;
    kt_code_t code;
    int status;
    char message[KT_ERROR_MESSAGE_MAX];    /* English: logs, kontingentctl, Accept-Language: en */
    char message_ru[KT_ERROR_MESSAGE_MAX]; /* the same in Russian, the default of answers */
    kt_field_error_t *fields;              /* arena-owned list, NULL when none */
    size_t nfields;
    /* What the error refers to, for the client to act on: the existing
     * student's id for DUPLICATE_*, the current version for VERSION_CONFLICT
     * (problem.c renders it as "existing_id" / "current_version"). */
    char ref[64];
} kt_error_t;

/* Sets every member of a non-NULL err, as bson_set_error does: the HTTP
 * status is the code's own (kt_code_status); the message is a printf format.
 * Nothing below http/ and handlers/ knows about HTTP beyond the code.
 * fmt is English and names its Russian in the catalogue (core/msg.h): both
 * are formatted here, and the answer picks one (kt_error_message). */
void kt_error_set(kt_error_t *err, kt_domain_t domain, kt_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same with another status than the code's, for the few deliberate
 * overrides of the HTTP side (a malformed query parameter is 400 FORMAT where
 * a body field's is 422). http/, handlers/ and fcgi/ only (scripts/lint). */
void kt_error_set_status(kt_error_t *err, kt_domain_t domain, kt_code_t code, int status,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Gives an error set below the HTTP side another status (a report's
 * group_by names a query parameter: 400). http/, handlers/, fcgi/ only. */
void kt_error_restatus(kt_error_t *err, int status);

/* The error's message in the language asked for ("" when it has none). */
const char *kt_error_message(const kt_error_t *err, bool en);

/* Sets err from fmt (a text of the catalogue) followed by inner's message,
 * each in its language: "the package was not processed in %d attempts; the
 * last error: " + inner. */
void kt_error_wrap(kt_error_t *err, kt_domain_t domain, kt_code_t code, const kt_error_t *inner,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Clears err to "no error" (code KT_OK). */
void kt_error_clear(kt_error_t *err);

struct arena;

/* Appends a field error (copied into arena) to err's list, in order; false
 * when out of memory. message NULL means the code's title; otherwise it is
 * an English text of the catalogue, its Russian looked up there. */
bool kt_error_add_field(kt_error_t *err, struct arena *arena, const char *pointer, kt_code_t code,
                        const char *message);

/* The same with a printf format of the catalogue, formatted in both languages. */
bool kt_error_add_fieldf(kt_error_t *err, struct arena *arena, const char *pointer, kt_code_t code,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The same with both texts given (composed by the caller from catalogue texts). */
bool kt_error_add_field2(kt_error_t *err, struct arena *arena, const char *pointer, kt_code_t code,
                         const char *en, const char *ru);

/* A field error's message in the language asked for (the code's title when none). */
const char *kt_field_message(const kt_field_error_t *f, bool en);

/* "FORMAT", "NOT_FOUND", ... ; "INTERNAL" for out-of-range values. */
const char *kt_code_name(kt_code_t code);

/* The HTTP status a code answers with when nothing more specific is known. */
int kt_code_status(kt_code_t code);

/* A short human title for the code, Russian by default, English when en. */
const char *kt_code_title(kt_code_t code, bool en);

#endif
