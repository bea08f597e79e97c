/* progress: a bar on a terminal, periodic lines elsewhere (core/progress.h). */
#include "core/progress.h"

#include "core/clock.h"
#include <string.h>
#include <time.h>

void
progress_start(progress_t *p, FILE *out, bool tty, long interval, const char *what,
               const char *unit, long long total)
{
    if (p == NULL)
        return;
    memset(p, 0, sizeof *p);
    p->out = out;
    p->tty = tty;
    p->interval = interval < 0 ? 0 : interval;
    p->what = what;
    p->unit = unit;
    p->total = total < 0 ? 0 : total;
    p->started = p->last = clock_monotonic_ms();
}

/* "[#######-------]  45% " */
static void
draw_bar(const progress_t *p)
{
    char bar[PROGRESS_BAR_WIDTH + 1];
    long long filled =
        p->done >= p->total ? PROGRESS_BAR_WIDTH : p->done * PROGRESS_BAR_WIDTH / p->total;

    for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '-';
    bar[PROGRESS_BAR_WIDTH] = '\0';
    fprintf(p->out, "[%s] %3lld%% ", bar, p->done >= p->total ? 100 : p->done * 100 / p->total);
}

static void
write_state(progress_t *p, long long at)
{
    long long secs = (at - p->started) / 1000;

    if (p->tty) {
        fprintf(p->out, "\r%s ", p->what);
        if (p->total > 0)
            draw_bar(p);
        fprintf(p->out, "%lld", p->done);
        if (p->total > 0)
            fprintf(p->out, "/%lld", p->total);
        fprintf(p->out, " %s, %lld:%02lld\033[K", p->unit, secs / 60, secs % 60);
    } else {
        fprintf(p->out, "%s: %lld", p->what, p->done);
        if (p->total > 0)
            fprintf(p->out, "/%lld", p->total);
        fprintf(p->out, " %s", p->unit);
        if (p->total > 0)
            fprintf(p->out, " (%lld%%)", p->done >= p->total ? 100 : p->done * 100 / p->total);
        fprintf(p->out, ", %lld s\n", secs);
    }
    fflush(p->out);
    p->last = at;
    p->wrote = true;
}

void
progress_update(progress_t *p, long long done)
{
    long long at;

    if (p == NULL || p->out == NULL)
        return;
    p->done = done;
    at = clock_monotonic_ms();
    /* A terminal sees the bar at once, then at most every PROGRESS_REDRAW_MS. */
    if (p->tty ? !p->wrote || at - p->last >= PROGRESS_REDRAW_MS
               : at - p->last >= p->interval * 1000)
        write_state(p, at);
}

void
progress_step(progress_t *p)
{
    if (p != NULL)
        progress_update(p, p->done + 1);
}

void
progress_finish(progress_t *p)
{
    if (p == NULL || p->out == NULL || !p->wrote)
        return;
    write_state(p, clock_monotonic_ms());
    if (p->tty)
        fputc('\n', p->out);
    fflush(p->out);
    p->out = NULL;
}
