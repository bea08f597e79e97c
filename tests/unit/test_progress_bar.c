/*
 * test_progress_bar: the lines a long command writes when its output is not a
 * terminal, the bar when it is, and nothing from a command too short to
 * write any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/progress.h"
#include "tests/unit/check.h"

/* What was written to f, from the start. */
static const char *
written(FILE *f)
{
    static char text[4096];
    size_t n;

    fflush(f);
    rewind(f);
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    return text;
}

static void
test_lines(void)
{
    FILE *f = tmpfile();
    progress_t p;

    CHECK(f != NULL);
    /* interval 0: a line for every update. */
    progress_start(&p, f, false, 0, "import", "items", 4);
    progress_update(&p, 1);
    progress_step(&p);
    progress_finish(&p);
    CHECK_STR(written(f), "import: 1/4 items (25%), 0 s\n"
                          "import: 2/4 items (50%), 0 s\n"
                          "import: 2/4 items (50%), 0 s\n");
    fclose(f);
}

static void
test_lines_without_total(void)
{
    FILE *f = tmpfile();
    progress_t p;

    progress_start(&p, f, false, 0, "export", "bytes", 0);
    progress_update(&p, 65536);
    progress_finish(&p);
    CHECK_STR(written(f), "export: 65536 bytes, 0 s\nexport: 65536 bytes, 0 s\n");
    fclose(f);
}

static void
test_quiet_when_short(void)
{
    FILE *f = tmpfile();
    progress_t p;

    /* A line every hour: a command that ends first writes nothing at all. */
    progress_start(&p, f, false, 3600, "verify", "records", 0);
    for (int i = 0; i < 1000; i++)
        progress_step(&p);
    progress_finish(&p);
    CHECK_STR(written(f), "");
    fclose(f);
}

static void
test_bar(void)
{
    FILE *f = tmpfile();
    progress_t p;
    const char *out;

    progress_start(&p, f, true, 10, "import", "items", 10);
    progress_update(&p, 5);
    progress_update(&p, 10);
    progress_finish(&p);
    out = written(f);
    /* Drawn at once, in place (\r), and the line ended at the finish. */
    CHECK(strncmp(out, "\rimport [###############---------------]  50% 5/10 items, 0:00", 62) == 0);
    CHECK(strstr(out, "[##############################] 100% 10/10 items") != NULL);
    CHECK(out[strlen(out) - 1] == '\n');
    /* NULL does nothing. */
    progress_step(NULL);
    progress_finish(NULL);
    fclose(f);
}

int
main(void)
{
    CHECK_RUN(test_lines);
    CHECK_RUN(test_lines_without_total);
    CHECK_RUN(test_quiet_when_short);
    CHECK_RUN(test_bar);
    CHECK_MAIN_END();
}
