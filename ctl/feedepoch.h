/* feedepoch: `kontingentctl epoch [renew]` — the change feed's epoch (store/feed.h). */
#ifndef KT_CTL_FEEDEPOCH_H
#define KT_CTL_FEEDEPOCH_H

#include "http/config.h"

/* argv: what follows "epoch"; returns the exit status (2: bad arguments). */
int feedepoch_command(const config_t *cfg, int argc, char **argv);

#endif
