/*
 * calendar: the region's day (calendar.h).
 *
 * glibc keeps one time zone per process, chosen by TZ. calendar_zone_use puts
 * TZ=":<name>" into the environment and calls tzset() once, before threads:
 * glibc reads the zone file then, and later localtime_r/mktime calls use the
 * loaded rules under glibc's own lock (mktime re-reads TZ, finds it unchanged
 * and keeps them). Changing TZ while threads run would race with every getenv,
 * so nothing does; the workers inherit the zone from the master across fork.
 * A hand-written reader of zone files would avoid the global but would have to
 * follow POSIX TZ rules of future DST changes too; glibc already does.
 */
#include "model/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/validators.h"

#define ZONE_DIR_DEFAULT "/usr/share/zoneinfo"

static bool zone_local; /* false: UTC */
static char zone_name[CALENDAR_ZONE_MAX] = "UTC";

/* An IANA zone name: components of letters, digits, '_', '+', '-' and '.',
 * separated by '/', none empty, "." or ".." (so the name stays a path inside
 * the zone directory). */
static bool
zone_name_ok(const char *name)
{
    size_t len = strlen(name), part = 0;

    if (len == 0 || len >= CALENDAR_ZONE_MAX)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char c = name[i];
        if (c == '/' || c == '\0') {
            if (part == 0 || (part == 1 && name[i - 1] == '.') ||
                (part == 2 && name[i - 1] == '.' && name[i - 2] == '.'))
                return false;
            part = 0;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.'))
            return false;
        part++;
    }
    return true;
}

/* True when dir/name is a zone file (it starts with the magic "TZif"). */
static bool
zone_file_ok(const char *dir, const char *name)
{
    char path[1024], magic[4];
    FILE *f = NULL;
    bool ok = false;

    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return false;
    f = fopen(path, "rbe");
    if (f == NULL)
        return false;
    ok = fread(magic, 1, sizeof magic, f) == sizeof magic && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

bool
calendar_zone_use(const char *name, kt_error_t *err)
{
    const char *dir = getenv("TZDIR"); /* where glibc looks too */
    char tz[CALENDAR_ZONE_MAX + 1];

    if (dir == NULL || dir[0] == '\0')
        dir = ZONE_DIR_DEFAULT;
    if (name == NULL || !zone_name_ok(name)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                     "KT_TIMEZONE must be an IANA time zone name such as Europe/Moscow, not "
                     "\"%.64s\"",
                     name != NULL ? name : "");
        return false;
    }
    if (!zone_file_ok(dir, name)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL,
                     "KT_TIMEZONE \"%s\" is not a time zone: no zone file %s/%s (is tzdata "
                     "installed?)",
                     name, dir, name);
        return false;
    }
    /* The leading ':' makes glibc read the file only, never a POSIX rule string. */
    snprintf(tz, sizeof tz, ":%s", name);
    if (setenv("TZ", tz, 1) != 0) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "KT_TIMEZONE: setenv failed");
        return false;
    }
    tzset();
    memcpy(zone_name, name, strlen(name) + 1);
    zone_local = true;
    return true;
}

const char *
calendar_zone(void)
{
    return zone_name;
}

/* A struct tm field, already in range, bounded so that the compiler sees
 * the width it is printed with. */
static unsigned
bounded(int v, unsigned bound)
{
    return (unsigned)v % bound;
}

bool
calendar_date_of(time_t t, char out[11])
{
    struct tm tm;
    bool ok = zone_local ? localtime_r(&t, &tm) != NULL : gmtime_r(&t, &tm) != NULL;

    out[0] = '\0';
    if (!ok || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
        return false;
    snprintf(out, 11, "%04u-%02u-%02u", bounded(tm.tm_year + 1900, 10000),
             bounded(tm.tm_mon + 1, 100), bounded(tm.tm_mday, 100));
    return true;
}

void
date_today(char out[11])
{
    calendar_date_of(time(NULL), out);
}

bool
calendar_day_end(const char *date, char out[CALENDAR_TIME_SIZE])
{
    struct tm tm = {0}, utc;
    int y, m, d;
    time_t next;

    out[0] = '\0';
    if (!date_parse(date, &y, &m, &d))
        return false;
    /* The first second of the next day (mktime normalises day 32 and the
     * like; tm_isdst -1: whatever the zone says then), minus one. */
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d + 1;
    tm.tm_isdst = -1;
    next = zone_local ? mktime(&tm) : timegm(&tm);
    if (next == (time_t)-1) /* no real day starts at 1969-12-31T23:59:59Z */
        return false;
    next -= 1;
    if (gmtime_r(&next, &utc) == NULL)
        return false;
    /* West of Greenwich the day 9999-12-31 ends in the year 10000; every
     * stored time is before that, so the last representable one bounds the
     * same versions. */
    if (utc.tm_year + 1900 > 9999) {
        snprintf(out, CALENDAR_TIME_SIZE, "9999-12-31T23:59:59.999Z");
        return true;
    }
    snprintf(out, CALENDAR_TIME_SIZE, "%04u-%02u-%02uT%02u:%02u:%02u.999Z",
             bounded(utc.tm_year + 1900, 10000), bounded(utc.tm_mon + 1, 100),
             bounded(utc.tm_mday, 100), bounded(utc.tm_hour, 100), bounded(utc.tm_min, 100),
             bounded(utc.tm_sec, 100));
    return true;
}
