/* log: JSON lines on stderr. */
#include "http/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/json.h"

static const char *const level_names[LOG__MAX] = {"debug", "info", "warn", "error"};

static void
write_time(jw_t *w)
{
    struct timeval tv;
    struct tm tm;
    char stamp[40];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp + n, sizeof stamp - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    jw_key(w, "time");
    jw_string(w, stamp);
}

static void
emit(buf_t *b)
{
    buf_putc(b, '\n');
    if (b->data != NULL) {
        ssize_t rc = write(STDERR_FILENO, b->data, b->len);
        (void)rc;
    }
    buf_release(b);
}

static void
begin(jw_t *w, buf_t *b, log_level_t level)
{
    buf_init(b, 16384);
    jw_init(w, b);
    jw_object_begin(w);
    write_time(w);
    jw_key(w, "level");
    jw_string(w, level_names[level < LOG__MAX ? level : LOG_ERROR]);
    jw_key(w, "pid");
    jw_int(w, getpid());
}

void
log_event(log_level_t level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    buf_t b;
    jw_t w;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    begin(&w, &b, level);
    jw_key(&w, "msg");
    jw_string(&w, msg);
    jw_object_end(&w);
    emit(&b);
}

static double
elapsed_ms(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

void
log_request(const request_t *req, int status, const kt_error_t *err)
{
    buf_t b;
    jw_t w;

    begin(&w, &b, status >= 500 ? LOG_ERROR : LOG_INFO);
    jw_key(&w, "request_id");
    jw_string(&w, req->request_id);
    jw_key(&w, "method");
    jw_string(&w, req->method);
    jw_key(&w, "route");
    jw_string(&w, req->route_pattern);
    jw_key(&w, "status");
    jw_int(&w, status);
    jw_key(&w, "duration_ms");
    jw_double(&w, (double)(long)(elapsed_ms(&req->started) * 1000) / 1000);
    jw_key(&w, "principal");
    if (req->principal.role != ROLE_NONE) {
        jw_object_begin(&w);
        jw_key(&w, "subject");
        jw_string(&w, req->principal.subject);
        jw_key(&w, "role");
        jw_string(&w, principal_role_name(req->principal.role));
        jw_key(&w, "auth");
        jw_string(&w, principal_method_name(req->principal.method));
        if (req->principal.token_id[0] != '\0') {
            jw_key(&w, "jti"); /* what `kontingentctl token revoke --jti` takes */
            jw_string(&w, req->principal.token_id);
        }
        jw_object_end(&w);
    } else {
        jw_null(&w);
    }
    if (err != NULL && err->code != KT_OK) {
        jw_key(&w, "code");
        jw_string(&w, kt_code_name(err->code));
        if (err->domain == KT_DOMAIN_STORE || err->domain == KT_DOMAIN_INTERNAL ||
            err->domain == KT_DOMAIN_AUTH) {
            jw_key(&w, "error");
            jw_string(&w, err->message);
        }
    }
    jw_object_end(&w);
    emit(&b);
}
