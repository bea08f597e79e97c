/* placeholder replaced below */
#include "store/sqlite/sqlite.h"
const store_ops_t store_sqlite_ops = {.name = "sqlite"};
