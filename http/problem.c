/* problem: error → problem+json, in one place. */
#include "http/problem.h"

#include <ctype.h>
#include <string.h>

#include "core/json.h"
#include "core/msg.h"

/* Problem type URIs are stable names documented in docs/api.md ("Errors"). */
static void
write_type(jw_t *w, kt_code_t code)
{
    char type[64] = "urn:kontingent:problem:";
    size_t n = strlen(type);

    for (const char *c = kt_code_name(code); *c && n + 1 < sizeof type; c++)
        type[n++] = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
    type[n] = '\0';
    jw_key(w, "type");
    jw_string(w, type);
}

/* Why a credential was refused helps an attacker more than a client: the
 * reason goes to the server's log only (http/log.c), with the request id. */
static const char unauthenticated_detail[] =
    "A valid bearer token or a registered client certificate is required; the reason for the "
    "refusal is in the server's log under the request_id";

/* What the client may read: our own input messages, never a store's, never
 * why authentication failed. */
static const char *
public_detail(const kt_error_t *err, bool en)
{
    if (err->code == KT_UNAUTHENTICATED)
        return kt_msg(unauthenticated_detail, en);
    if (err->domain == KT_DOMAIN_STORE || err->domain == KT_DOMAIN_INTERNAL)
        return kt_code_title(err->code, en);
    return err->message[0] ? kt_error_message(err, en) : kt_code_title(err->code, en);
}

static void
write_fields(jw_t *w, const kt_error_t *err, bool en)
{
    if (err->fields == NULL)
        return;
    jw_key(w, "errors");
    jw_array_begin(w);
    for (const kt_field_error_t *f = err->fields; f != NULL; f = f->next) {
        jw_object_begin(w);
        jw_key(w, "pointer");
        jw_string(w, f->pointer);
        jw_key(w, "code");
        jw_string(w, kt_code_name(f->code));
        jw_key(w, "message");
        jw_string(w, kt_field_message(f, en));
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void
write_ref(jw_t *w, const kt_error_t *err)
{
    if (err->ref[0] == '\0')
        return;
    if (err->code == KT_VERSION_CONFLICT) {
        jw_key(w, "current_version");
        jw_raw(w, err->ref, strlen(err->ref));
    } else if (err->code == KT_MERGED || err->code == KT_MERGE_STATE ||
               err->code == KT_ALREADY_MERGED || err->code == KT_GONE) {
        jw_key(w, "merged_into"); /* the survivor (service/merge.h) */
        jw_string(w, err->ref);
    } else {
        jw_key(w, "existing_id");
        jw_string(w, err->ref);
    }
}

void
problem_render(response_t *res, const request_t *req, const kt_error_t *err)
{
    problem_render_with(res, req, err, NULL, NULL);
}

void
problem_render_with(response_t *res, const request_t *req, const kt_error_t *err,
                    problem_extra_fn extra, void *ctx)
{
    int status = err->status ? err->status : kt_code_status(err->code);
    jw_t w;

    response_reset(res, status, "application/problem+json");
    if (status == 401)
        response_header(res, "WWW-Authenticate", "Bearer realm=\"kontingent\"");
    jw_init(&w, &res->body);
    jw_object_begin(&w);
    write_type(&w, err->code);
    jw_key(&w, "title");
    jw_string(&w, kt_code_title(err->code, req->lang_en));
    jw_key(&w, "status");
    jw_int(&w, status);
    jw_key(&w, "detail");
    jw_string(&w, public_detail(err, req->lang_en));
    jw_key(&w, "code");
    jw_string(&w, kt_code_name(err->code));
    jw_key(&w, "request_id");
    jw_string(&w, req->request_id);
    write_ref(&w, err);
    write_fields(&w, err, req->lang_en);
    if (extra != NULL)
        extra(&w, ctx);
    jw_object_end(&w);
}
