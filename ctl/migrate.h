/* migrate: `kontingentctl migrate` — copy the registry to the other store
 * implementation (docs/storage.md, "Moving between them"). */
#ifndef KT_CTL_MIGRATE_H
#define KT_CTL_MIGRATE_H

#include "http/config.h"

/* argv: what follows "migrate"; returns the exit status (2: usage). */
int migrate_command(const config_t *cfg, int argc, char **argv);

#endif
