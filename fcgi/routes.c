/*
 * routes: the one table of every endpoint (redis's command table, kcgi's
 * pages). What a route declares — authentication, body media types, body
 * limit — is enforced by server.c before its handler runs.
 */
#include "fcgi/router.h"
#include "handlers/handlers.h"

const route_t routes_table[] = {
    {"GET", "/api/v1/health", handle_health, ROUTE_PUBLIC, NULL, 0},
    {"GET", "/api/v1/whoami", handle_whoami, 0, NULL, 0},
};

const size_t routes_count = sizeof routes_table / sizeof routes_table[0];
