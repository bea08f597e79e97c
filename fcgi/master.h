/*
 * master: the parent process. Opens the unix socket, creates the store's
 * indexes, preforks the workers and supervises them. Like nginx's master it
 * keeps the user it was started as (workers drop root after reading their
 * files, so SIGHUP can re-read files only root may read): a worker that dies is replaced
 * (with a back-off when workers die at start), SIGHUP starts a fresh set of
 * workers (re-reading key and certificate map) and retires the old ones
 * gracefully, SIGTERM/SIGINT stop everything after requests in flight finish.
 */
#ifndef KT_MASTER_H
#define KT_MASTER_H

#include "http/config.h"

int master_run(const config_t *cfg);

#endif
