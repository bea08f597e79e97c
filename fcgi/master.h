/*
 * master: the parent process. Opens the unix socket, drops privileges,
 * preforks the workers and supervises them: a worker that dies is replaced
 * (with a back-off when workers die at start), SIGHUP starts a fresh set of
 * workers (re-reading key and certificate map) and retires the old ones
 * gracefully, SIGTERM/SIGINT stop everything after requests in flight finish.
 */
#ifndef KT_MASTER_H
#define KT_MASTER_H

#include "fcgi/config.h"

int
master_run(const config_t *cfg);

#endif
