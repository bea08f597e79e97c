/*
 * buf: one growable output buffer with a hard cap.
 *
 * All output (JSON bodies, log lines, headers) is written through a buf.
 * Appending past the cap sets the overflow flag and keeps what fitted, so a
 * writer can finish and check once at the end. Memory is the heap's; the
 * owner calls buf_release(), or buf_detach() to take the bytes over.
 */
#ifndef KT_BUF_H
#define KT_BUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t alloc;
    size_t cap; /* 0: no cap */
    bool overflow;
} buf_t;

void buf_init(buf_t *b, size_t cap);

void buf_release(buf_t *b);

/* Hands the bytes over to the caller (free() them); the buf is empty after. */
char *buf_detach(buf_t *b, size_t *len);

void buf_clear(buf_t *b);

bool buf_append(buf_t *b, const void *data, size_t len);

bool buf_puts(buf_t *b, const char *s);

bool buf_putc(buf_t *b, char c);

bool buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s as a JSON string literal, quotes included; invalid UTF-8 becomes U+FFFD. */
bool buf_json_string(buf_t *b, const char *s, size_t len);

#endif
