/* identity: comparing the person of two student documents (service/identity.h). */
#include "service/identity.h"

#include <stdio.h>
#include <string.h>

#include "core/msg.h"
#include "model/names.h"
#include "store/util.h"

static const struct {
    identity_field_t field;
    const char *pointer;
    const char *title;
} fields[IDENTITY_FIELDS] = {
    {IDENTITY_LAST_NAME, "/last_name", "last name"},
    {IDENTITY_FIRST_NAME, "/first_name", "first name"},
    {IDENTITY_BIRTH_DATE, "/birth_date", "birth date"},
    {IDENTITY_SEX, "/sex", "sex"},
};

size_t
identity_normalize(const char *name, uint32_t *out, size_t max)
{
    return names_normalize(name, out, max);
}

/* The edit distance of a and b, capped at 2: equal lengths allow one
 * replacement, lengths one apart one insertion. */
static int
distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
    size_t i = 0;

    if (na < nb)
        return distance(b, nb, a, na);
    if (na - nb > 1)
        return 2;
    while (i < nb && a[i] == b[i])
        i++;
    if (i == nb) /* equal, or a has one more at its end */
        return na == nb ? 0 : 1;
    if (na == nb)
        return memcmp(a + i + 1, b + i + 1, (na - i - 1) * sizeof *a) == 0 ? 1 : 2;
    return memcmp(a + i + 1, b + i, (nb - i) * sizeof *a) == 0 ? 1 : 2;
}

int
identity_name_distance(const char *a, const char *b)
{
    uint32_t x[IDENTITY_NAME_MAX], y[IDENTITY_NAME_MAX];
    size_t nx = identity_normalize(a, x, IDENTITY_NAME_MAX);
    size_t ny = identity_normalize(b, y, IDENTITY_NAME_MAX);

    if (nx > IDENTITY_NAME_MAX || ny > IDENTITY_NAME_MAX)
        return a != NULL && b != NULL && strcmp(a, b) == 0 ? 0 : 2;
    return distance(x, nx, y, ny);
}

static bool
same_str(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

unsigned
identity_disagree(const bson_t *stored, const bson_t *incoming)
{
    int last = identity_name_distance(util_get_str(stored, "last_name"),
                                      util_get_str(incoming, "last_name"));
    int first = identity_name_distance(util_get_str(stored, "first_name"),
                                       util_get_str(incoming, "first_name"));
    unsigned mask = 0;

    if (last + first > 1) { /* one typo in all is tolerated */
        mask |= last > 0 ? IDENTITY_LAST_NAME : 0;
        mask |= first > 0 ? IDENTITY_FIRST_NAME : 0;
    }
    if (!same_str(util_get_str(stored, "birth_date"), util_get_str(incoming, "birth_date")))
        mask |= IDENTITY_BIRTH_DATE;
    if (!same_str(util_get_str(stored, "sex"), util_get_str(incoming, "sex")))
        mask |= IDENTITY_SEX;
    return mask;
}

bool
identity_changed(const bson_t *cur, const bson_t *doc)
{
    for (size_t i = 0; i < IDENTITY_FIELDS; i++) {
        const char *key = fields[i].pointer + 1;
        if (!same_str(util_get_str(cur, key), util_get_str(doc, key)))
            return true;
    }
    return false;
}

const char *
identity_field_pointer(identity_field_t f)
{
    for (size_t i = 0; i < IDENTITY_FIELDS; i++)
        if (fields[i].field == f)
            return fields[i].pointer;
    return "";
}

const char *
identity_field_title(identity_field_t f)
{
    for (size_t i = 0; i < IDENTITY_FIELDS; i++)
        if (fields[i].field == f)
            return fields[i].title;
    return "";
}

void
identity_conflict(kt_error_t *err, arena_t *arena, unsigned mask, const char *id)
{
    char en[128] = "", ru[128] = "", field_en[KT_ERROR_MESSAGE_MAX], field_ru[KT_ERROR_MESSAGE_MAX];
    const char *sp = id ? " " : "", *shown = id ? id : "";
    size_t n_en = 0, n_ru = 0;

    /* The list of names differs by language: each message is formatted
     * twice, from the same catalogue key (core/msg.h). */
    for (size_t i = 0; i < IDENTITY_FIELDS; i++) {
        if (!(mask & fields[i].field))
            continue;
        if (n_en < sizeof en)
            n_en += (size_t)snprintf(en + n_en, sizeof en - n_en, "%s%s", n_en ? ", " : "",
                                     fields[i].title);
        if (n_ru < sizeof ru)
            n_ru += (size_t)snprintf(ru + n_ru, sizeof ru - n_ru, "%s%s", n_ru ? ", " : "",
                                     kt_msg(fields[i].title, false));
    }
    kt_error_set(err, KT_DOMAIN_INPUT, KT_IDENTITY_CONFLICT,
                 "The record%s%s describes another person; these differ: %s", sp, shown, en);
    kt_msg_format_ru(err->message_ru, sizeof err->message_ru,
                     "The record%s%s describes another person; these differ: %s", sp, shown, ru);
    for (size_t i = 0; i < IDENTITY_FIELDS; i++) {
        if (!(mask & fields[i].field))
            continue;
        snprintf(field_en, sizeof field_en, "Differs from the record%s%s (%s)", sp, shown,
                 fields[i].title);
        kt_msg_format_ru(field_ru, sizeof field_ru, "Differs from the record%s%s (%s)", sp, shown,
                         fields[i].title);
        kt_error_add_field2(err, arena, fields[i].pointer, KT_IDENTITY_CONFLICT, field_en,
                            field_ru);
    }
}
