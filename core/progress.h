/*
 * progress: how far a long command is (kontingentctl import, export, verify,
 * repair). On a terminal a bar redrawn in place, at most PROGRESS_REDRAW_MS
 * apart; otherwise (a log, a pipe, cron) one line every `interval` seconds,
 * and a last line at the end when any was written. A NULL progress_t * is
 * allowed everywhere and does nothing, so callers pass one only when asked.
 */
#ifndef KT_CORE_PROGRESS_H
#define KT_CORE_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

#define PROGRESS_REDRAW_MS 200
#define PROGRESS_BAR_WIDTH 30

typedef struct {
    FILE *out;
    const char *what; /* "import", "verify", ...: the line's first word */
    const char *unit; /* "items", "records", "bytes" */
    long long total;  /* 0: not known, no bar and no percentage */
    long long done;
    bool tty;          /* a bar redrawn with \r, else lines */
    long interval;     /* lines: seconds between two; 0: one per update */
    long long started; /* monotonic ms */
    long long last;    /* when the last bar or line was written, monotonic ms */
    bool wrote;
} progress_t;

/* tty: draw a bar (isatty of out's descriptor, as the caller decides). */
void progress_start(progress_t *p, FILE *out, bool tty, long interval, const char *what,
                    const char *unit, long long total);

/* done so far; writes when a redraw or a line is due. */
void progress_update(progress_t *p, long long done);

/* One more unit done. */
void progress_step(progress_t *p);

/* The last state, ending the bar's line; nothing when nothing was written. */
void progress_finish(progress_t *p);

#endif
