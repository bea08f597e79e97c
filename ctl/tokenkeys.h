/*
 * tokenkeys: `kontingentctl token rotate | retire` — the bearer tokens'
 * signing key rotated without logging anybody out (docs/operations.md,
 * "Rotating keys").
 */
#ifndef KT_CTL_TOKENKEYS_H
#define KT_CTL_TOKENKEYS_H

#include "http/config.h"

/* argv: what follows "token rotate" / "token retire"; returns the exit status
 * (2: bad arguments, nothing done). */
int tokenkeys_rotate(const config_t *cfg, int argc, char **argv);
int tokenkeys_retire(const config_t *cfg, int argc, char **argv);

#endif
