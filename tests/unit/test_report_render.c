/* Unit tests of handlers/report_render.c: the CSV dialect and the chart, for
 * people in Russian and English (docs/reports.md, docs/i18n.md). */
#include <string.h>

#include "check.h"
#include "handlers/reports.h"

static report_row_t rows[3];

/* Two schools by sex: one named in the registry, one not; one row hidden. */
static contingent_t
sample(void)
{
    contingent_t r = {.as_of = "2026-09-20", .age_on = "2026-09-01", .ndims = 2};

    memset(rows, 0, sizeof rows);
    r.dims[0] = DIM_ORGANIZATION;
    r.dims[1] = DIM_SEX;
    rows[0].values[DIM_ORGANIZATION] = "1027700132195";
    rows[0].values[DIM_SEX] = "F";
    rows[0].org_name = "МБОУ \"СОШ № 1\"";
    rows[0].count = 1234;
    rows[1].values[DIM_ORGANIZATION] = "1037700000000";
    rows[1].values[DIM_SEX] = "";
    rows[1].count = 7;
    rows[2].values[DIM_ORGANIZATION] = "1037700000000";
    rows[2].values[DIM_SEX] = "M";
    rows[2].count = 2;
    rows[2].hidden = true;
    r.rows = rows;
    r.nrows = 3;
    r.total = 1243;
    r.not_enrolled = 12;
    return r;
}

static void
test_csv_is_what_a_russian_spreadsheet_opens(void)
{
    contingent_t r = sample();
    buf_t out;

    buf_init(&out, 0);
    CHECK(report_render_csv(&r, false, &out));
    buf_putc(&out, '\0');
    CHECK_STR(out.data, "\xEF\xBB\xBF"
                        "\"ОГРН\";\"Организация\";\"Пол\";\"Число обучающихся\"\r\n"
                        "\"1027700132195\";\"МБОУ \"\"СОШ № 1\"\"\";\"женский\";\"1234\"\r\n"
                        "\"1037700000000\";\"\";\"не указано\";\"7\"\r\n"
                        "\"1037700000000\";\"\";\"мужской\";\"\"\r\n");
    buf_release(&out);
}

static void
test_csv_in_english(void)
{
    contingent_t r = sample();
    buf_t out;

    buf_init(&out, 0);
    CHECK(report_render_csv(&r, true, &out));
    buf_putc(&out, '\0');
    CHECK(strncmp(out.data, "\xEF\xBB\xBF\"OGRN\";\"Organisation\";\"Sex\";\"Students\"\r\n",
                  strlen("\xEF\xBB\xBF\"OGRN\";\"Organisation\";\"Sex\";\"Students\"\r\n")) == 0);
    CHECK(strstr(out.data, "\"female\";\"1234\"\r\n") != NULL);
    CHECK(strstr(out.data, "\"not given\"") != NULL);
    buf_release(&out);
}

/* A value that a spreadsheet would run is neutralised. */
static void
test_csv_neutralises_formulas(void)
{
    contingent_t r = sample();
    buf_t out;

    rows[0].org_name = "=HYPERLINK(\"x\")";
    buf_init(&out, 0);
    CHECK(report_render_csv(&r, false, &out));
    buf_putc(&out, '\0');
    CHECK(strstr(out.data, "\"'=HYPERLINK(\"\"x\"\")\"") != NULL);
    buf_release(&out);
}

static void
test_svg_reads_as_people_read(void)
{
    contingent_t r = sample();
    buf_t out;

    buf_init(&out, 0);
    CHECK(report_render_svg(&r, false, &out));
    buf_putc(&out, '\0');
    /* dd.mm.yyyy, thin-space thousands, the short name, not the ОГРН, on the bar. */
    CHECK(strstr(out.data, "Контингент на 20.09.2026: 1\xE2\x80\x89"
                           "243 обучающихся") != NULL);
    CHECK(strstr(out.data, "возраст на 01.09.2026") != NULL);
    CHECK(strstr(out.data, ">МБОУ &quot;СОШ № 1&quot; · женский</text>") != NULL);
    CHECK(strstr(out.data, "(ОГРН 1027700132195)") != NULL);
    CHECK(strstr(out.data, ">1\xE2\x80\x89"
                           "234</text>") != NULL);
    /* Without a name the ОГРН stands in; an unknown value is named so. */
    CHECK(strstr(out.data, ">1037700000000 · не указано</text>") != NULL);
    CHECK(strstr(out.data, "class=\"n\">скрыто</text>") != NULL);
    CHECK(strstr(out.data, "Состоят на учёте, но не обучаются на эту дату: 12") != NULL);
    /* The axis: ticks 0 … 1 500 by 500 under the bars, and its title. */
    CHECK(strstr(out.data, "class=\"axis\"") != NULL);
    CHECK(strstr(out.data, "text-anchor=\"middle\">0</text>") != NULL);
    CHECK(strstr(out.data, "text-anchor=\"middle\">1\xE2\x80\x89"
                           "500</text>") != NULL);
    CHECK(strstr(out.data, ">Число обучающихся</text>") != NULL);
    CHECK(strstr(out.data, "2026-09-20") == NULL);
    buf_release(&out);
}

static void
test_svg_in_english(void)
{
    contingent_t r = sample();
    buf_t out;

    buf_init(&out, 0);
    CHECK(report_render_svg(&r, true, &out));
    buf_putc(&out, '\0');
    CHECK(strstr(out.data, "Contingent on 20.09.2026: 1\xE2\x80\x89"
                           "243 students") != NULL);
    CHECK(strstr(out.data, " · female</text>") != NULL);
    CHECK(strstr(out.data, "On record but not enrolled on that date: 12") != NULL);
    CHECK(strstr(out.data, "class=\"n\">hidden</text>") != NULL);
    CHECK(strstr(out.data, "Grouped by: Organisation, Sex; age on 01.09.2026") != NULL);
    buf_release(&out);
}

int
main(void)
{
    CHECK_RUN(test_csv_is_what_a_russian_spreadsheet_opens);
    CHECK_RUN(test_csv_in_english);
    CHECK_RUN(test_csv_neutralises_formulas);
    CHECK_RUN(test_svg_reads_as_people_read);
    CHECK_RUN(test_svg_in_english);
    CHECK_MAIN_END();
}
