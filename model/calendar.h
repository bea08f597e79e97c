/*
 * calendar: the region's day. Every calendar-date rule — a date may not lie
 * after today, the default report dates, a known_at given as a date — counts
 * days in the region's time zone (KT_TIMEZONE, an IANA name, default
 * Europe/Moscow), so that a document issued today in Vladivostok is dated
 * today there. Timestamps (version times, logs, as_of) stay UTC ("…Z").
 *
 * The zone is process-wide: calendar_zone_use is called once at start, before
 * any thread (config_load does it), and never while threads run.
 */
#ifndef KT_CALENDAR_H
#define KT_CALENDAR_H

#include <stdbool.h>
#include <time.h>

#include "core/error.h"

#define CALENDAR_ZONE_DEFAULT "Europe/Moscow"
#define CALENDAR_ZONE_MAX     64 /* bytes of a zone name, NUL included */
#define CALENDAR_TIME_SIZE    25 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL */

/* Makes name ("Asia/Vladivostok") the region's zone. It must name a zone
 * file of the tz database (under $TZDIR, default /usr/share/zoneinfo): an
 * unknown name is an error, never a silent UTC. Until the first call the
 * zone is UTC. Not thread-safe: call it before threads start. */
bool calendar_zone_use(const char *name, kt_error_t *err);

/* The region's zone name ("UTC" before calendar_zone_use). */
const char *calendar_zone(void);

/* "YYYY-MM-DD" of the instant t in the region's zone into out; false (out
 * "") when t is outside the years 1..9999. */
bool calendar_date_of(time_t t, char out[11]);

/* "YYYY-MM-DD" of today in the region's zone into out (size ≥ 11). */
void date_today(char out[11]);

/* The last millisecond of the region's day date ("YYYY-MM-DD") as a UTC time
 * in the stored form ("2026-09-20T20:59:59.999Z" for 2026-09-20 in Moscow);
 * false for a date that is not a real date. */
bool calendar_day_end(const char *date, char out[CALENDAR_TIME_SIZE]);

#endif
