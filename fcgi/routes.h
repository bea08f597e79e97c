/* routes: the one route table of the service (fcgi/routes.c). */
#ifndef KT_FCGI_ROUTES_H
#define KT_FCGI_ROUTES_H

#include <stddef.h>

#include "http/router.h"

extern const route_t routes_table[];
extern const size_t routes_count;

#endif
