/*
 * gunzip: a request body sent with Content-Encoding: gzip, inflated with a
 * hard cap (docs/xml-exchange.md, "Whole-package errors").
 *
 * The buffer grows as the data inflates and never beyond max + 1 bytes
 * (the extra byte tells "exactly max" from "more"), whatever the body's
 * size or the size its gzip trailer claims: a worker's memory is bounded by
 * the limit, not by the compression ratio. Exactly one gzip member is
 * accepted: bytes after its end are refused, not ignored.
 */
#ifndef KT_GUNZIP_H
#define KT_GUNZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Inflates the gzip member of len bytes at in into a heap buffer (*out,
 * NUL-terminated, the caller frees it) of *out_len bytes, at most max.
 * False with *out NULL and err: 413 PAYLOAD_TOO_LARGE when the data
 * inflates past max; 400 MALFORMED for a corrupt or truncated stream, or
 * bytes after the member's end; 500 INTERNAL when memory runs out. */
bool gunzip_inflate(const char *in, size_t len, size_t max, char **out, size_t *out_len,
                    kt_error_t *err);

#endif
