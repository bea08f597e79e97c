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

    static const char usage[] =
        "usage: kontingent-fcgi [--help | --version]\n"
        "The Kontingent FastCGI master: it listens on KT_SOCKET and keeps KT_WORKERS workers.\n"
        "Configuration: /etc/kontingent/kontingent.conf (or the file KT_CONFIG names;\n"
        "KT_CONFIG= reads none), then the environment, which overrides it\n"
        "(docs/operations.md, \"Settings\"). SIGHUP: new workers read it again; SIGTERM: stop.\n";

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("kontingent-fcgi %s\n", KT_VERSION);
        return 0;
    }
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "kontingent-fcgi: unknown argument \"%s\"\n%s", argv[1], usage);
        return 2;
    }
    kt_error_clear(&err);
    if (!config_load(&cfg, &err)) {
        log_event(LOG_ERROR, "configuration: %s", err.message);
        return 1;
    }
    return master_run(&cfg);
}
