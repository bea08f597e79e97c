/*
 * tmp_store: a fresh SQLite store in a directory of its own under $TMPDIR,
 * for the unit tests of the SQLite backend (no server), and its removal.
 */
#ifndef KT_TESTS_TMP_STORE_H
#define KT_TESTS_TMP_STORE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/store.h"

/* Makes dir ("$TMPDIR/kt-<name>-XXXXXX"), opens path = dir/kt.db and
 * prepares it; NULL (with a line on stderr) when it cannot. */
static inline store_t *
tmp_store_open(const char *name, char dir[512], char path[600])
{
    const char *tmp = getenv("TMPDIR");
    kt_error_t err;
    store_t *store;
    store_conn_t *conn;
    bool ok;

    snprintf(dir, 512, "%s/kt-%s-XXXXXX", tmp != NULL && *tmp ? tmp : "/tmp", name);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return NULL;
    }
    snprintf(path, 600, "%s/kt.db", dir);
    kt_error_clear(&err);
    store = store_new(&(store_options_t){.backend = STORE_SQLITE, .sqlite_path = path}, &err);
    conn = store != NULL ? store_conn_pop(store, STORE_POOL_BATCH) : NULL;
    ok = conn != NULL && store_prepare(conn, &err);
    store_conn_push(conn);
    if (!ok) {
        fprintf(stderr, "cannot open %s: %s\n", path, err.message);
        store_free(store);
        return NULL;
    }
    return store;
}

/* Removes every file in dir (the databases and their -wal and -shm), then dir. */
static inline void
tmp_store_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char file[1024];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        unlink(file);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

#endif
