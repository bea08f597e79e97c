/*
 * test_calendar: the region's day (model/calendar.h). Instants are given,
 * never the clock's: the date of an instant around midnight UTC in UTC,
 * Europe/Moscow (UTC+3) and Asia/Vladivostok (UTC+10); the end of a day as a
 * UTC bound, with Moscow's summer time of 2010 and a New York DST day; names
 * that are not zones. Needs the tz database (tzdata) under /usr/share/zoneinfo
 * or $TZDIR.
 */
#include <string.h>
#include <time.h>

#include "model/calendar.h"
#include "model/validators.h"
#include "tests/unit/check.h"

/* 2026-12-06T00:00:00Z. */
#define DAY_0 ((time_t)1796515200)

static const char *
date_at(time_t t)
{
    static char out[11];

    CHECK(calendar_date_of(t, out));
    return out;
}

static void
use(const char *zone)
{
    kt_error_t err;

    kt_error_clear(&err);
    CHECK(calendar_zone_use(zone, &err));
    CHECK_STR(calendar_zone(), zone);
}

/* Before any calendar_zone_use the day is UTC's (programs that never load a
 * configuration). */
static void
test_utc_before_a_zone(void)
{
    char end[CALENDAR_TIME_SIZE];

    CHECK_STR(calendar_zone(), "UTC");
    CHECK_STR(date_at(DAY_0 + 86399), "2026-12-06");
    CHECK_STR(date_at(DAY_0 + 86400), "2026-12-07");
    CHECK(calendar_day_end("2026-09-20", end));
    CHECK_STR(end, "2026-09-20T23:59:59.999Z");
}

static void
test_moscow(void)
{
    char end[CALENDAR_TIME_SIZE];

    use("Europe/Moscow");
    CHECK_STR(date_at(DAY_0 + 20 * 3600 + 3599), "2026-12-06"); /* 23:59:59 MSK */
    CHECK_STR(date_at(DAY_0 + 21 * 3600), "2026-12-07");        /* 00:00 MSK, 21:00Z */
    CHECK_STR(date_at(DAY_0 + 86399), "2026-12-07");            /* 23:59:59Z */
    CHECK_STR(date_at(DAY_0 + 86400), "2026-12-07");            /* midnight UTC */
    CHECK(calendar_day_end("2026-09-20", end));
    CHECK_STR(end, "2026-09-20T20:59:59.999Z");
    CHECK(calendar_day_end("2000-01-01", end)); /* winter time then: UTC+3 */
    CHECK_STR(end, "2000-01-01T20:59:59.999Z");
    CHECK(calendar_day_end("2010-07-01", end)); /* summer time then: UTC+4 */
    CHECK_STR(end, "2010-07-01T19:59:59.999Z");
    CHECK(calendar_day_end("2026-12-31", end)); /* the year rolls over */
    CHECK_STR(end, "2026-12-31T20:59:59.999Z");
}

/* The case of the issue: 03:08 in Vladivostok is 17:08Z of the day before,
 * and a document issued that local day is not "after today". */
static void
test_vladivostok(void)
{
    char end[CALENDAR_TIME_SIZE];
    time_t at_0308 = DAY_0 + 17 * 3600 + 8 * 60; /* 2026-12-06T17:08Z */

    use("Asia/Vladivostok");
    CHECK_STR(date_at(DAY_0 + 13 * 3600 + 3599), "2026-12-06"); /* 23:59:59 local */
    CHECK_STR(date_at(DAY_0 + 14 * 3600), "2026-12-07");        /* 00:00 local */
    CHECK_STR(date_at(at_0308), "2026-12-07");
    CHECK_INT(date_compare("2026-12-07", date_at(at_0308)), 0);
    CHECK_STR(date_at(DAY_0 - 1), "2026-12-06"); /* 23:59:59Z of the 5th: 09:59 local */
    CHECK_STR(date_at(DAY_0 + 86400), "2026-12-07");
    CHECK(calendar_day_end("2026-09-20", end));
    CHECK_STR(end, "2026-09-20T13:59:59.999Z");
}

/* West of Greenwich: a 23-hour day and the last representable bound. */
static void
test_west(void)
{
    char end[CALENDAR_TIME_SIZE];

    use("America/New_York");
    CHECK_STR(date_at(DAY_0 + 86399), "2026-12-06"); /* 18:59:59 EST */
    CHECK(calendar_day_end("2026-03-08", end));      /* clocks go forward: ends in EDT */
    CHECK_STR(end, "2026-03-09T03:59:59.999Z");
    CHECK(calendar_day_end("2026-12-06", end));
    CHECK_STR(end, "2026-12-07T04:59:59.999Z");
    CHECK(calendar_day_end("9999-12-31", end));
    CHECK_STR(end, "9999-12-31T23:59:59.999Z");
    CHECK(!calendar_day_end("2026-02-30", end));
    CHECK_STR(end, "");
    CHECK(!calendar_day_end("26-02-03", end));
}

/* Names that are not zones are refused and leave the zone as it was. */
static void
test_bad_names(void)
{
    static const char *const bad[] = {
        "",
        "Europe/Nowhere",
        "Europe",
        "../../../etc/passwd",
        "/usr/share/zoneinfo/Europe/Moscow",
        "Europe//Moscow",
        "Europe/./Moscow",
        "Europe/Moscow/",
        "MSK-3",
        "Europe/Moscow\n",
        "Европа/Москва",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        NULL};
    kt_error_t err;

    use("Asia/Vladivostok");
    for (size_t i = 0; bad[i] != NULL; i++) {
        kt_error_clear(&err);
        CHECK(!calendar_zone_use(bad[i], &err));
        CHECK(strstr(err.message, "KT_TIMEZONE") != NULL);
    }
    CHECK(!calendar_zone_use(NULL, &err));
    CHECK_STR(calendar_zone(), "Asia/Vladivostok");
    CHECK_STR(date_at(DAY_0 + 14 * 3600), "2026-12-07");
    use("UTC");
    CHECK_STR(date_at(DAY_0 + 86399), "2026-12-06");
}

int
main(void)
{
    CHECK_RUN(test_utc_before_a_zone);
    CHECK_RUN(test_moscow);
    CHECK_RUN(test_vladivostok);
    CHECK_RUN(test_west);
    CHECK_RUN(test_bad_names);
    CHECK_MAIN_END();
}
