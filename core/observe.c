/* observe: one function pointer, written once at start, read by every thread. */
#include "core/observe.h"

#include <stddef.h>

/* Written before the worker's threads exist, only read afterwards (like the
 * configuration), so it needs no lock. */
static kt_observe_fn installed;
static void *installed_ctx;

void
kt_observe_install(kt_observe_fn fn, void *ctx)
{
    installed = fn;
    installed_ctx = ctx;
}

void
kt_observe(kt_observe_t what, bool ok, kt_code_t code)
{
    if (installed != NULL)
        installed(installed_ctx, what, ok, code);
}

bool
kt_observed(kt_observe_t what, bool ok, const kt_error_t *err)
{
    kt_observe(what, ok, ok ? KT_OK : err != NULL ? err->code : KT_INTERNAL);
    return ok;
}
