/*
 * test_config: the configuration file (KT_CONFIG) read by the service and
 * kontingentctl through config_load: its values, the environment overriding
 * them, and every malformed file refused with the line it is on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/config.h"
#include "tests/unit/check.h"

static char conf_path[64];

static void
write_conf(const char *text)
{
    FILE *f = fopen(conf_path, "w");

    CHECK(f != NULL);
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
    setenv("KT_CONFIG", conf_path, 1);
}

/* config_load's error for this file, "" when it loads. */
static const char *
load_error(const char *text, config_t *cfg)
{
    static kt_error_t err;

    write_conf(text);
    kt_error_clear(&err);
    return config_load(cfg, &err) ? "" : err.message;
}

static void
test_file_values(void)
{
    config_t cfg;

    CHECK_STR(load_error("# the region's service\n"
                         "\n"
                         "KT_VAR=/srv/kt\n"
                         "  KT_WORKERS = 6  \n"
                         "KT_STORE=\"sqlite\"\n"
                         "KT_SQLITE='/srv/kt/registry.db'\n"
                         "KT_TIMEZONE=Asia/Vladivostok\r\n",
                         &cfg),
              "");
    CHECK_STR(cfg.var_dir, "/srv/kt");
    CHECK_INT(cfg.workers, 6);
    CHECK_STR(cfg.store, "sqlite");
    CHECK_STR(cfg.sqlite_path, "/srv/kt/registry.db");
    CHECK_STR(cfg.time_zone, "Asia/Vladivostok");
    /* Defaults under the file's KT_VAR. */
    CHECK_STR(cfg.socket_path, "/srv/kt/run/kontingent.sock");
    CHECK_STR(cfg.config_file, conf_path);
}

static void
test_environment_overrides(void)
{
    config_t cfg;

    setenv("KT_WORKERS", "3", 1);
    setenv("KT_VAR", "", 1); /* empty: as if unset, the file's value holds */
    CHECK_STR(load_error("KT_VAR=/srv/kt\nKT_WORKERS=6\n", &cfg), "");
    CHECK_INT(cfg.workers, 3);
    CHECK_STR(cfg.var_dir, "/srv/kt");
    unsetenv("KT_WORKERS");
    unsetenv("KT_VAR");
}

static void
test_bad_lines_named(void)
{
    config_t cfg;
    const char *msg;

    msg = load_error("KT_VAR=/srv/kt\nKT_WORKERS 6\n", &cfg);
    CHECK(strstr(msg, "line 2: expected NAME=value") != NULL);
    msg = load_error("KT_VAR=/srv/kt\n\nkt_db=x\n", &cfg);
    CHECK(strstr(msg, "line 3:") != NULL && strstr(msg, "kt_db") != NULL);
    msg = load_error("KT_DB=a\nKT_DB=b\n", &cfg);
    CHECK(strstr(msg, "line 2: KT_DB is set twice (also on line 1)") != NULL);
    /* A misspelt name is not ignored. */
    msg = load_error("KT_WORKER=4\n", &cfg);
    CHECK(strstr(msg, "line 1: KT_WORKER is not a setting") != NULL);
    /* A value out of range names its setting, as from the environment. */
    msg = load_error("KT_WORKERS=0\n", &cfg);
    CHECK(strstr(msg, "KT_WORKERS must be a number in 1..64") != NULL);
}

static void
test_long_line(void)
{
    config_t cfg;
    char *text = malloc(CONFIG_LINE_MAX + 64);

    CHECK(text != NULL);
    if (text == NULL)
        return;
    memcpy(text, "KT_DB=", 6);
    memset(text + 6, 'a', CONFIG_LINE_MAX);
    memcpy(text + 6 + CONFIG_LINE_MAX, "\n", 2);
    CHECK(strstr(load_error(text, &cfg), "line 1 is longer than 4096 bytes") != NULL);
    free(text);
}

static void
test_which_file(void)
{
    config_t cfg;
    kt_error_t err;

    /* Named but missing: an error, not the defaults. */
    setenv("KT_CONFIG", "/nonexistent/kontingent.conf", 1);
    kt_error_clear(&err);
    CHECK(!config_load(&cfg, &err));
    CHECK(strstr(err.message, "/nonexistent/kontingent.conf") != NULL);
    /* Empty: no file at all. */
    setenv("KT_CONFIG", "", 1);
    kt_error_clear(&err);
    CHECK(config_load(&cfg, &err));
    CHECK_STR(cfg.config_file, "");
    CHECK_STR(cfg.var_dir, "var");
}

int
main(void)
{
    static const char *const own[] = {"KT_VAR",      "KT_WORKERS", "KT_STORE", "KT_SQLITE",
                                      "KT_TIMEZONE", "KT_SOCKET",  "KT_DB"};
    int fd;

    snprintf(conf_path, sizeof conf_path, "/tmp/kt-test-config.XXXXXX");
    fd = mkstemp(conf_path);
    if (fd < 0)
        return 1;
    close(fd);
    /* The file's values are the test's: nothing from the caller's environment. */
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        unsetenv(own[i]);
    CHECK_RUN(test_file_values);
    CHECK_RUN(test_environment_overrides);
    CHECK_RUN(test_bad_lines_named);
    CHECK_RUN(test_long_line);
    CHECK_RUN(test_which_file);
    unlink(conf_path);
    CHECK_MAIN_END();
}
