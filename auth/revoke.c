/* revoke: the revocation list, parsed into a sorted table and reloaded on change. */
#include "auth/revoke.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/utf8.h"

#define REVOKE_VALUE_MAX 255
#define REVOKE_PATH_MAX  1024

static const char *const kind_names[REVOKE__MAX] = {
    [REVOKE_JTI] = "jti",
    [REVOKE_SUBJECT] = "sub",
};

typedef struct {
    revoke_kind_t kind;
    int64_t time;
    char *value;
} revoke_entry_t;

typedef struct {
    revoke_entry_t *items;
    size_t n;
    size_t alloc;
    char *text; /* the file's bytes; values point into it */
} revoke_set_t;

/* What identifies a version of the file; a rename always changes the inode. */
typedef struct {
    bool present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} revoke_stamp_t;

struct revoke_list {
    pthread_mutex_t mu;
    char path[REVOKE_PATH_MAX];
    int64_t checked_ms; /* monotonic; 0: never */
    revoke_stamp_t stamp;
    revoke_set_t set;
    char broken[160]; /* why the file cannot be used; "" when it can */
};

static int64_t
monotonic_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Values and lines ---------------------------------------------------- */

static bool
jti_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

bool
revoke_value_valid(revoke_kind_t kind, const char *value)
{
    size_t n = value != NULL ? strlen(value) : 0;

    if (n == 0 || n > REVOKE_VALUE_MAX)
        return false;
    if (kind == REVOKE_SUBJECT)
        return utf8_text_valid(value, n, NULL);
    for (size_t i = 0; i < n; i++) {
        if (!jti_char(value[i]))
            return false;
    }
    return kind == REVOKE_JTI;
}

static void
set_release(revoke_set_t *set)
{
    free(set->items);
    free(set->text);
    memset(set, 0, sizeof *set);
}

static bool
set_push(revoke_set_t *set, revoke_kind_t kind, int64_t time, char *value)
{
    if (set->n == set->alloc) {
        size_t alloc = set->alloc ? set->alloc * 2 : 64;
        revoke_entry_t *items = realloc(set->items, alloc * sizeof *items);
        if (items == NULL)
            return false;
        set->items = items;
        set->alloc = alloc;
    }
    set->items[set->n++] = (revoke_entry_t){kind, time, value};
    return true;
}

/* "<kind> <time> <value>": value runs to the end of the line. */
static bool
parse_line(revoke_set_t *set, char *line)
{
    char *sp = strchr(line, ' '), *end = NULL;
    long long t;

    if (sp == NULL)
        return false;
    *sp = '\0';
    for (unsigned k = 0; k < REVOKE__MAX; k++) {
        if (strcmp(line, kind_names[k]) != 0)
            continue;
        errno = 0;
        t = strtoll(sp + 1, &end, 10);
        if (errno != 0 || end == sp + 1 || *end != ' ' || t < 0)
            return false;
        if (!revoke_value_valid((revoke_kind_t)k, end + 1))
            return false;
        return set_push(set, (revoke_kind_t)k, t, end + 1);
    }
    return false;
}

/* Parses text (taken over by set, NUL-terminated, len bytes); false on the
 * first line that is not a comment, empty or a revocation. */
static bool
set_parse(revoke_set_t *set, char *text, size_t len)
{
    char *p = text, *end = text + len;

    set->text = text;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl != NULL ? nl : end;
        *line_end = '\0';
        if (memchr(p, '\0', (size_t)(line_end - p)) != NULL)
            return false;
        if (p[0] != '\0' && p[0] != '#' && !parse_line(set, p))
            return false;
        p = line_end + 1;
    }
    return true;
}

static int
entry_cmp(const void *a, const void *b)
{
    const revoke_entry_t *x = a, *y = b;

    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->value, y->value);
}

/* ---- Reading the file ---------------------------------------------------- */

static bool
read_text(int fd, off_t size, char **out, size_t *len)
{
    char *text = malloc((size_t)size + 1);
    size_t got = 0;

    *out = NULL;
    *len = 0;
    if (text == NULL)
        return false;
    while (got < (size_t)size) {
        ssize_t n = read(fd, text + got, (size_t)size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    text[got] = '\0';
    *out = text;
    *len = got;
    return true;
}

/* Loads path into set (empty when the file does not exist); false with a reason. */
static bool
set_load(revoke_set_t *set, const char *path, revoke_stamp_t *stamp, char *why, size_t why_size)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool ok = false;

    memset(set, 0, sizeof *set);
    memset(stamp, 0, sizeof *stamp);
    if (fd < 0 && errno == ENOENT)
        return true;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, why_size, "cannot read %s: %s", path, strerror(errno));
        goto done;
    }
    if (st.st_size > (off_t)REVOKE_MAX_BYTES) {
        snprintf(why, why_size, "%s is larger than %u bytes", path, REVOKE_MAX_BYTES);
        goto done;
    }
    *stamp = (revoke_stamp_t){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim};
    if (!read_text(fd, st.st_size, &text, &len)) {
        snprintf(why, why_size, "no memory for %s", path);
        goto done;
    }
    if (!set_parse(set, text, len)) {
        snprintf(why, why_size, "%s has a line that is not a revocation", path);
        goto done;
    }
    qsort(set->items, set->n, sizeof *set->items, entry_cmp);
    ok = true;
done:
    if (!ok && set->text == NULL)
        free(text);
    if (!ok)
        set_release(set);
    if (fd >= 0)
        close(fd);
    return ok;
}

static bool
stamp_same(const revoke_stamp_t *a, const struct stat *st)
{
    return a->present && a->dev == st->st_dev && a->ino == st->st_ino && a->size == st->st_size &&
           a->mtime.tv_sec == st->st_mtim.tv_sec && a->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Under the lock: reload when the file changed since the last look. */
static void
list_refresh(revoke_list_t *list)
{
    struct stat st;
    int64_t now = monotonic_ms();
    bool exists;
    revoke_set_t fresh;
    revoke_stamp_t stamp;

    if (list->checked_ms != 0 && now - list->checked_ms < REVOKE_CHECK_MS)
        return;
    list->checked_ms = now;
    exists = stat(list->path, &st) == 0;
    if (!exists && errno != ENOENT) {
        snprintf(list->broken, sizeof list->broken, "cannot stat %.120s: %s", list->path,
                 strerror(errno));
        return;
    }
    if (list->broken[0] == '\0' && (exists ? stamp_same(&list->stamp, &st) : !list->stamp.present))
        return;
    list->broken[0] = '\0';
    if (!set_load(&fresh, list->path, &stamp, list->broken, sizeof list->broken))
        return;
    set_release(&list->set);
    list->set = fresh;
    list->stamp = stamp;
}

revoke_list_t *
revoke_list_new(const char *path)
{
    revoke_list_t *list = calloc(1, sizeof *list);

    if (list == NULL)
        return NULL;
    if (strlen(path) >= sizeof list->path || pthread_mutex_init(&list->mu, NULL) != 0) {
        free(list);
        return NULL;
    }
    memcpy(list->path, path, strlen(path) + 1);
    return list;
}

void
revoke_list_free(revoke_list_t *list)
{
    if (list == NULL)
        return;
    set_release(&list->set);
    pthread_mutex_destroy(&list->mu);
    free(list);
}

static const revoke_entry_t *
set_find(const revoke_set_t *set, revoke_kind_t kind, const char *value)
{
    revoke_entry_t key = {kind, 0, (char *)value};

    if (set->n == 0)
        return NULL;
    return bsearch(&key, set->items, set->n, sizeof *set->items, entry_cmp);
}

/* A subject may be listed more than once: the latest time binds. */
static int64_t
subject_revoked_at(const revoke_set_t *set, const char *sub)
{
    const revoke_entry_t *hit = set_find(set, REVOKE_SUBJECT, sub);
    const revoke_entry_t *first = set->items, *last = set->items + set->n;
    int64_t latest = -1;

    if (hit == NULL)
        return -1;
    while (hit > first && entry_cmp(hit - 1, hit) == 0)
        hit--;
    for (; hit < last && hit->kind == REVOKE_SUBJECT && strcmp(hit->value, sub) == 0; hit++)
        latest = hit->time > latest ? hit->time : latest;
    return latest;
}

bool
revoke_list_allows(revoke_list_t *list, const char *jti, const char *sub, int64_t iat,
                   kt_error_t *err)
{
    bool allowed = false;
    int64_t at;

    pthread_mutex_lock(&list->mu);
    list_refresh(list);
    if (list->broken[0] != '\0') {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_UNAVAILABLE,
                     "the token revocation list is unusable: %s", list->broken);
    } else if (set_find(&list->set, REVOKE_JTI, jti) != NULL) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED, "token revoked (jti)");
    } else if ((at = subject_revoked_at(&list->set, sub)) >= 0 && iat <= at) {
        kt_error_set(err, KT_DOMAIN_AUTH, KT_UNAUTHENTICATED, "token revoked (subject)");
    } else {
        allowed = true;
    }
    pthread_mutex_unlock(&list->mu);
    return allowed;
}

/* ---- Writing the file (kontingentctl) ------------------------------------ */

static bool
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

/* The kept entries of set and the new one, in file order. */
static bool
render(buf_t *b, const revoke_set_t *set, revoke_kind_t kind, const char *value, int64_t now)
{
    buf_puts(b, "# Revoked bearer tokens: written by `kontingentctl token revoke`, read by the "
                "workers\n# (docs/operations.md, \"Tokens\"). jti|sub <unix time> <value>\n");
    for (size_t i = 0; i < set->n; i++) {
        const revoke_entry_t *e = &set->items[i];
        if (e->kind == REVOKE_JTI && now - e->time > REVOKE_JTI_KEEP_SECONDS)
            continue;
        buf_printf(b, "%s %lld %s\n", kind_names[e->kind], (long long)e->time, e->value);
    }
    buf_printf(b, "%s %lld %s\n", kind_names[kind], (long long)now, value);
    return !b->overflow;
}

static bool
replace_file(const char *path, const buf_t *b, kt_error_t *err)
{
    char tmp[REVOKE_PATH_MAX + 8];
    int fd;
    bool ok;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ok = fd >= 0 && fchmod(fd, 0644) == 0 && write_all(fd, b->data, b->len) && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot write %.200s: %s", path,
                     strerror(errno));
        unlink(tmp);
    }
    return ok;
}

/* The list's directory, readable by the workers' user (the file holds no secret). */
static void
make_parent(const char *path)
{
    char dir[REVOKE_PATH_MAX];
    const char *slash = strrchr(path, '/');
    size_t n = slash != NULL ? (size_t)(slash - path) : 0;

    if (n == 0 || n >= sizeof dir)
        return;
    memcpy(dir, path, n);
    dir[n] = '\0';
    /* 0755 whatever the umask (the scripts run with 077): the workers read the
     * list as KT_USER, and it holds no secret. */
    if (mkdir(dir, 0755) == 0)
        (void)chmod(dir, 0755);
    /* Otherwise opening the lock file next says what is wrong. */
}

bool
revoke_file_add(const char *path, revoke_kind_t kind, const char *value, int64_t now,
                kt_error_t *err)
{
    char lock_path[REVOKE_PATH_MAX + 8], why[160] = "";
    revoke_set_t set;
    revoke_stamp_t stamp;
    buf_t b;
    int lock = -1;
    bool ok = false;

    memset(&set, 0, sizeof set);
    buf_init(&b, REVOKE_MAX_BYTES);
    if (strlen(path) >= REVOKE_PATH_MAX || !revoke_value_valid(kind, value)) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_FORMAT, "not a path or not a revocable value");
        goto done;
    }
    make_parent(path);
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "cannot lock %.200s: %s", lock_path,
                     strerror(errno));
        goto done;
    }
    if (!set_load(&set, path, &stamp, why, sizeof why)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "%s", why);
        goto done;
    }
    if (!render(&b, &set, kind, value, now)) {
        kt_error_set(err, KT_DOMAIN_INTERNAL, KT_INTERNAL, "%.200s would exceed %u bytes", path,
                     REVOKE_MAX_BYTES);
        goto done;
    }
    ok = replace_file(path, &b, err);
done:
    set_release(&set);
    buf_release(&b);
    if (lock >= 0)
        close(lock);
    return ok;
}
