/*
 * export: a Packet of one organisation's students (now, or as of a time),
 * written in pieces through a write function: the HTTP handler streams it to
 * the client, `kontingentctl export` to a file. Constant memory.
 */
#ifndef KT_EXPORT_H
#define KT_EXPORT_H

#include <mongoc/mongoc.h>
#include <stdbool.h>

#include "auth/principal.h"
#include "fcgi/response.h"
#include "model/seal.h"

typedef struct {
    mongoc_client_t *client;
    const char *db;
    const char *org;              /* ОГРН */
    const char *as_of;            /* NULL: now; else "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    const principal_t *principal; /* for the access log */
    const char *request_id;       /* for the access log */
    response_write_fn write_fn;   /* set by export_packet */
    /* Health keys (NULL: none) and the stated purpose, for the access log;
     * health is shown only to principals that may see it (handlers/healthdata.h). */
    const seal_keyring_t *health_ring;
    const char *purpose;
    void *wctx;
    char last[40]; /* the last student written (pages may repeat one) */
} export_t;

/* Writes the whole Packet; false when the store or the writer failed
 * (the output is then cut short). */
bool export_packet(export_t *e, response_write_fn write_fn, void *wctx);

#endif
