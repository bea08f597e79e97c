/* kontingent-fcgi: the FastCGI server (see fcgi/master.h). */
#include <stdio.h>
#include <string.h>

#include "http/config.h"
#include "http/log.h"
#include "fcgi/master.h"

int
main(int argc, char **argv)
{
    config_t cfg;
    kt_error_t err;

    if (argc > 1 && (strcmp(argv[1], "--version") == 0)) {
        printf("kontingent-fcgi %s\n", KT_VERSION);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: kontingent-fcgi [--version]\n"
                        "configuration comes from the environment: see docs/operations.md\n");
        return 2;
    }
    kt_error_clear(&err);
    if (!config_load(&cfg, &err)) {
        log_event(LOG_ERROR, "configuration: %s", err.message);
        return 1;
    }
    return master_run(&cfg);
}
