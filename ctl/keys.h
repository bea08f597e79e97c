/* keys: `kontingentctl keys …` — the health data's master keys (docs/health.md, "Keys"). */
#ifndef KT_CTL_KEYS_H
#define KT_CTL_KEYS_H

#include "http/config.h"

/* argv: what follows "keys"; returns the exit status. */
int keys_command(const config_t *cfg, int argc, char **argv);

/* SIGHUP to the master of KT_PID_FILE (fresh workers read every key file);
 * says on stdout whether one was found. */
void keys_tell_workers(const config_t *cfg);

#endif
