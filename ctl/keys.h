/* keys: `kontingentctl keys …` — the health data's master keys (docs/health.md, "Keys"). */
#ifndef KT_CTL_KEYS_H
#define KT_CTL_KEYS_H

#include "http/config.h"

/* argv: what follows "keys"; returns the exit status. */
int keys_command(const config_t *cfg, int argc, char **argv);

#endif
