/*
 * education: events, episodes and the trajectory (model/education.h).
 *
 * An event body is checked by the field table education_event_fields and
 * its root rule (which members each type needs or must not carry, the
 * order's date). Applying it works on JSON trees in the arena: the stored
 * `education` (codec_bson_to_tree) is read into episode_t rows, one
 * pointer per member of the contract, the rules of docs/enrolment.md are
 * checked against them, the row the event changes is rewritten, and the
 * rows are written back in the contract's member order.
 *
 * Choices the contract leaves open, made here (docs/enrolment.md):
 *   - Every event carries its order (приказ): number and date.
 *   - Members an event type does not use are FORBIDDEN (a grade on an
 *     EXPEL, an episode on an ENROLL), so nothing is silently dropped.
 *   - TRANSFER_CLASS needs a grade; its grade and class letter replace the
 *     episode's both (no letter given: the episode has none after it).
 *   - On academic leave: TRANSFER_CLASS, ACADEMIC_LEAVE and GRADUATE are
 *     EPISODE_STATE; TRANSFER_OUT and EXPEL are allowed (both happen to
 *     students on leave); RETURN needs the leave.
 *   - A new main episode starts no earlier than every earlier main
 *     episode's start and end; a DOP episode is free of them.
 *   - An event's date is not before the student's birth date.
 *   - A stored event keeps type, date, order and the members that are the
 *     event's own (grade, class_letter, to_organization, note); the
 *     episode's organisation, level, programme and form sit on the episode.
 */
#include "model/education.h"

#include <stdio.h>
#include <string.h>

#include "core/msg.h"
#include "model/codec.h"
#include "model/fields.h"
#include "model/validators.h"

/* The event body. */

enum {
    EV_TYPE,
    EV_DATE,
    EV_ORDER,
    EV_ORGANIZATION,
    EV_LEVEL,
    EV_PROGRAM,
    EV_FORM,
    EV_FINANCING,
    EV_GRADE,
    EV_CLASS_LETTER,
    EV_EPISODE,
    EV_TO_ORGANIZATION,
    EV_NOTE,
    EV__MAX
};

#define EV_BIT(m) (1u << (m))
#define EV_OPENING_REQUIRED                                                                        \
    (EV_BIT(EV_ORGANIZATION) | EV_BIT(EV_LEVEL) | EV_BIT(EV_PROGRAM) | EV_BIT(EV_FORM))

/* Which of the optional members (organization … to_organization) each type
 * uses, and which of them it needs. type, date, order and note: every type. */
typedef struct {
    const char *type;
    unsigned allowed;
    unsigned required;
} education_kind_t;

static const education_kind_t education_kinds[] = {
    {"ENROLL",
     EV_OPENING_REQUIRED | EV_BIT(EV_FINANCING) | EV_BIT(EV_GRADE) | EV_BIT(EV_CLASS_LETTER),
     EV_OPENING_REQUIRED},
    {"TRANSFER_IN",
     EV_OPENING_REQUIRED | EV_BIT(EV_FINANCING) | EV_BIT(EV_GRADE) | EV_BIT(EV_CLASS_LETTER),
     EV_OPENING_REQUIRED},
    {"TRANSFER_CLASS", EV_BIT(EV_GRADE) | EV_BIT(EV_CLASS_LETTER) | EV_BIT(EV_EPISODE),
     EV_BIT(EV_GRADE)},
    {"TRANSFER_OUT", EV_BIT(EV_TO_ORGANIZATION) | EV_BIT(EV_EPISODE), 0},
    {"ACADEMIC_LEAVE", EV_BIT(EV_EPISODE), 0},
    {"RETURN", EV_BIT(EV_EPISODE), 0},
    {"EXPEL", EV_BIT(EV_EPISODE), 0},
    {"GRADUATE", EV_BIT(EV_EPISODE), 0},
};

#define EDUCATION_KINDS (sizeof education_kinds / sizeof education_kinds[0])

static const char *const education_types[] = {"ENROLL",      "TRANSFER_CLASS", "TRANSFER_OUT",
                                              "TRANSFER_IN", "ACADEMIC_LEAVE", "RETURN",
                                              "EXPEL",       "GRADUATE",       NULL};
static const char *const education_levels[] = {"PRESCHOOL", "NOO", "OOO", "SOO",
                                               "SPO",       "DOP", NULL};
static const char *const education_forms[] = {"FULL_TIME", "PART_TIME", "EXTRAMURAL",
                                              "FAMILY",    "SELF",      NULL};
static const char *const education_financing[] = {"BUDGET", "CONTRACT", NULL};

static const education_kind_t *
education_kind(const char *type)
{
    for (size_t i = 0; i < EDUCATION_KINDS; i++) {
        if (strcmp(education_kinds[i].type, type) == 0)
            return &education_kinds[i];
    }
    return NULL;
}

bool
education_level_valid(const char *level)
{
    for (const char *const *l = education_levels; level != NULL && *l != NULL; l++)
        if (strcmp(*l, level) == 0)
            return true;
    return false;
}

static bool
education_is_school(const char *level)
{
    return strcmp(level, "NOO") == 0 || strcmp(level, "OOO") == 0 || strcmp(level, "SOO") == 0;
}

static bool
education_is_opening(const char *type)
{
    return strcmp(type, "ENROLL") == 0 || strcmp(type, "TRANSFER_IN") == 0;
}

static bool
education_is_ending(const char *type)
{
    return strcmp(type, "TRANSFER_OUT") == 0 || strcmp(type, "EXPEL") == 0 ||
           strcmp(type, "GRADUATE") == 0;
}

int64_t
education_days(const char *date)
{
    int y = 1970, m = 1, d = 1;

    date_parse(date, &y, &m, &d);
    /* Howard Hinnant's days_from_civil. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* ОКСО code of a СПО programme: NN.NN.NN (federal.md §4). */
static bool
education_okso(const json_value_t *s)
{
    if (s->len != 8 || s->str[2] != '.' || s->str[5] != '.')
        return false;
    for (size_t i = 0; i < 8; i++) {
        if (i != 2 && i != 5 && (s->str[i] < '0' || s->str[i] > '9'))
            return false;
    }
    return true;
}

/* Members per type: FORBIDDEN when unused, REQUIRED when needed. */
static void
education_rule_members(fields_ctx_t *cx, const char *ptr, field_slot_t *slots,
                       const education_kind_t *kind)
{
    static const char *const names[EV__MAX] = {[EV_ORGANIZATION] = "organization",
                                               [EV_LEVEL] = "level",
                                               [EV_PROGRAM] = "program",
                                               [EV_FORM] = "form",
                                               [EV_FINANCING] = "financing",
                                               [EV_GRADE] = "grade",
                                               [EV_CLASS_LETTER] = "class_letter",
                                               [EV_EPISODE] = "episode",
                                               [EV_TO_ORGANIZATION] = "to_organization"};

    for (int m = EV_ORGANIZATION; m <= EV_TO_ORGANIZATION; m++) {
        const char *mptr = fields_ptr(cx, ptr, names[m]);
        if (slots[m].state != FIELD_ABSENT && !(kind->allowed & EV_BIT(m))) {
            fields_fail(cx, mptr, KT_FORBIDDEN, "This field is not used by events of this type");
            slots[m].state = FIELD_BAD;
        } else if (slots[m].state == FIELD_ABSENT && (kind->required & EV_BIT(m))) {
            fields_fail(cx, mptr, KT_REQUIRED, NULL);
            slots[m].state = FIELD_BAD;
        }
    }
}

/* Level-dependent needs of an opening event: a grade at school, an ОКСО
 * code of the right shape in СПО. */
static void
education_rule_level(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    const char *level = slots[EV_LEVEL].out->str;
    const json_value_t *code =
        slots[EV_PROGRAM].state == FIELD_OK ? json_get(slots[EV_PROGRAM].out, "code") : NULL;

    if (education_is_school(level) && slots[EV_GRADE].state == FIELD_ABSENT) {
        fields_fail(cx, fields_ptr(cx, ptr, "grade"), KT_REQUIRED,
                    "General education (NOO, OOO, SOO) needs a grade");
        slots[EV_GRADE].state = FIELD_BAD;
    }
    if (strcmp(level, "SPO") == 0 && code != NULL && !education_okso(code)) {
        fields_fail(cx, fields_ptr(cx, fields_ptr(cx, ptr, "program"), "code"), KT_FORMAT,
                    "The SPO speciality code of OKSO: NN.NN.NN");
        slots[EV_PROGRAM].state = FIELD_BAD;
    }
}

static void
education_rule_event(fields_ctx_t *cx, const char *ptr, field_slot_t *slots)
{
    const education_kind_t *kind =
        slots[EV_TYPE].state == FIELD_OK ? education_kind(slots[EV_TYPE].out->str) : NULL;
    const json_value_t *order_date =
        slots[EV_ORDER].state == FIELD_OK ? json_get(slots[EV_ORDER].out, "date") : NULL;

    if (kind != NULL)
        education_rule_members(cx, ptr, slots, kind);
    if (kind != NULL && education_is_opening(kind->type) && slots[EV_LEVEL].state == FIELD_OK)
        education_rule_level(cx, ptr, slots);
    if (order_date != NULL && slots[EV_DATE].state == FIELD_OK &&
        education_days(order_date->str) >
            education_days(slots[EV_DATE].out->str) + EDUCATION_ORDER_LAG_MAX) {
        fields_fail(cx, fields_ptr(cx, fields_ptr(cx, ptr, "order"), "date"), KT_DATE_ORDER,
                    "The order is dated more than 30 days after the event");
        slots[EV_ORDER].state = FIELD_BAD;
    }
}

/* The tables: one row per member, FIELD_STR(name, xml, required, max, check) and its kin
 * (model/fields.h names every slot). */

static const field_t education_order_fields[] = {
    FIELD_STR("number", "Number", FIELD_REQ, 50, NULL),
    FIELD_STR("date", "Date", FIELD_REQ, 0, fields_check_date),
    FIELD_END,
};

static const field_t education_program_fields[] = {
    FIELD_STR("name", "Name", FIELD_REQ, 500, NULL),
    FIELD_STR("code", "Code", FIELD_OPT, 20, NULL),
    FIELD_BOOL("adapted", "Adapted", FIELD_OPT),
    FIELD_END,
};

static const field_t education_event_fields[] = {
    [EV_TYPE] = FIELD_ENUM("type", "Type", FIELD_REQ, education_types),
    [EV_DATE] = FIELD_STR("date", "Date", FIELD_REQ, 0, fields_check_date),
    [EV_ORDER] = FIELD_OBJECT("order", "Order", FIELD_REQ, education_order_fields, NULL, 0),
    [EV_ORGANIZATION] = FIELD_STR("organization", "Organization", FIELD_OPT, 0, fields_check_ogrn),
    [EV_LEVEL] = FIELD_ENUM("level", "Level", FIELD_OPT, education_levels),
    [EV_PROGRAM] = FIELD_OBJECT("program", "Program", FIELD_OPT, education_program_fields, NULL, 0),
    [EV_FORM] = FIELD_ENUM("form", "Form", FIELD_OPT, education_forms),
    [EV_FINANCING] = FIELD_ENUM("financing", "Financing", FIELD_OPT, education_financing),
    [EV_GRADE] = FIELD_INT("grade", "Grade", FIELD_OPT, 0, EDUCATION_GRADE_MAX),
    [EV_CLASS_LETTER] = FIELD_STR("class_letter", "ClassLetter", FIELD_OPT, 10, NULL),
    [EV_EPISODE] = FIELD_INT("episode", "Episode", FIELD_OPT, 1, EDUCATION_EPISODES_MAX),
    [EV_TO_ORGANIZATION] =
        FIELD_STR("to_organization", "ToOrganization", FIELD_OPT, 0, fields_check_ogrn),
    [EV_NOTE] = FIELD_STR("note", "Note", FIELD_OPT, 1000, NULL),
    [EV__MAX] = FIELD_END,
};

/* The stored shape of a student's education, declared for the XML exchange
 * only: the server builds it from events (education_apply), so no body is
 * checked against these rows (the student's member is FIELD_ASSIGNED_AS);
 * the bounds here are documentation. */
static const field_t education_episode_event_fields[] = {
    FIELD_ENUM("type", "Type", FIELD_OPT, education_types),
    FIELD_STR("date", "Date", FIELD_OPT, 0, NULL),
    FIELD_OBJECT("order", "Order", FIELD_OPT, education_order_fields, NULL, 0),
    FIELD_INT("grade", "Grade", FIELD_OPT, 0, EDUCATION_GRADE_MAX),
    FIELD_STR("class_letter", "ClassLetter", FIELD_OPT, 10, NULL),
    FIELD_STR("to_organization", "ToOrganization", FIELD_OPT, 0, NULL),
    FIELD_STR("note", "Note", FIELD_OPT, 1000, NULL),
    FIELD_END,
};

static const field_t education_episode_event = {
    .xml = "Event", .type = FIELD_T_OBJECT, .child = education_episode_event_fields};

static const field_t education_episode_fields[] = {
    FIELD_INT("episode", "Number", FIELD_OPT, 1, EDUCATION_EPISODES_MAX),
    FIELD_STR("organization", "Organization", FIELD_OPT, 0, NULL),
    FIELD_ENUM("level", "Level", FIELD_OPT, education_levels),
    FIELD_OBJECT("program", "Program", FIELD_OPT, education_program_fields, NULL, 0),
    FIELD_ENUM("form", "Form", FIELD_OPT, education_forms),
    FIELD_ENUM("financing", "Financing", FIELD_OPT, education_financing),
    FIELD_INT("grade", "Grade", FIELD_OPT, 0, EDUCATION_GRADE_MAX),
    FIELD_STR("class_letter", "ClassLetter", FIELD_OPT, 10, NULL),
    FIELD_STR("enrolled_on", "EnrolledOn", FIELD_OPT, 0, NULL),
    FIELD_OBJECT("enroll_order", "EnrollOrder", FIELD_OPT, education_order_fields, NULL, 0),
    FIELD_STR("status", "Status", FIELD_OPT, 0, NULL),
    FIELD_STR("ended_on", "EndedOn", FIELD_OPT, 0, NULL),
    FIELD_STR("end_reason", "EndReason", FIELD_OPT, 0, NULL),
    FIELD_OBJECT("end_order", "EndOrder", FIELD_OPT, education_order_fields, NULL, 0),
    FIELD_STR("transfer_to", "TransferTo", FIELD_OPT, 0, NULL),
    FIELD_ARRAY("events", "Events", FIELD_OPT, 0, &education_episode_event),
    FIELD_END,
};

static const field_t education_episode = {
    .xml = "Episode", .type = FIELD_T_OBJECT, .child = education_episode_fields};

const field_t education_episodes =
    FIELD_ARRAY("education", "Education", FIELD_OPT, EDUCATION_EPISODES_MAX, &education_episode);

const field_t education_event_root = {.type = FIELD_T_OBJECT,
                                      .required = FIELD_REQ,
                                      .child = education_event_fields,
                                      .rule = education_rule_event};

bool
education_event_from_json(arena_t *arena, const json_value_t *body, const char *today, bson_t *out,
                          kt_error_t *err)
{
    return fields_from_json(arena, &education_event_root, body, today,
                            "The education event failed validation", out, err);
}

/* Trees. */

typedef struct {
    arena_t *arena;
    kt_error_t fields;
    size_t nerrors;
    bool oom;
} edu_ctx_t;

static void
edu_fail(edu_ctx_t *cx, const char *ptr, kt_code_t code, const char *msg)
{
    cx->nerrors++;
    if (cx->fields.nfields < FIELDS_ERRORS_MAX &&
        !kt_error_add_field(&cx->fields, cx->arena, ptr, code, msg))
        cx->oom = true;
}

static json_value_t *
edu_node(edu_ctx_t *cx, json_type_t type, const char *str)
{
    json_value_t *n = arena_calloc(cx->arena, 1, sizeof *n);

    if (n == NULL) {
        cx->oom = true;
        return NULL;
    }
    n->type = type;
    n->str = str;
    n->len = str != NULL ? strlen(str) : 0;
    return n;
}

/* Appends a shallow copy of v (its children shared) to parent under key
 * (NULL in arrays): trees read from the store are never relinked. */
static void
edu_add(edu_ctx_t *cx, json_value_t *parent, const char *key, const json_value_t *v)
{
    json_value_t *c, **at;

    if (parent == NULL || v == NULL || (c = arena_alloc(cx->arena, sizeof *c)) == NULL) {
        cx->oom = cx->oom || v != NULL;
        return;
    }
    *c = *v;
    c->key = key;
    c->key_len = key != NULL ? strlen(key) : 0;
    c->next = NULL;
    for (at = &parent->child; *at != NULL; at = &(*at)->next)
        continue;
    *at = c;
    parent->count++;
}

static const char *
edu_str(const json_value_t *v)
{
    return v != NULL && v->type == JSON_STRING ? v->str : "";
}

static const char *
edu_get_str(const json_value_t *obj, const char *key)
{
    return edu_str(json_get(obj, key));
}

/* a is a date before b; false when either is not a date at all. */
static bool
edu_before(const char *a, const char *b)
{
    return strlen(a) == 10 && strlen(b) == 10 && date_compare(a, b) < 0;
}

/* Episodes: one pointer per member of the contract, in its order. */

enum {
    EP_EPISODE,
    EP_ORGANIZATION,
    EP_LEVEL,
    EP_PROGRAM,
    EP_FORM,
    EP_FINANCING,
    EP_GRADE,
    EP_CLASS_LETTER,
    EP_ENROLLED_ON,
    EP_ENROLL_ORDER,
    EP_STATUS,
    EP_ENDED_ON,
    EP_END_REASON,
    EP_END_ORDER,
    EP_TRANSFER_TO,
    EP_EVENTS,
    EP__MAX
};

static const char *const episode_names[EP__MAX] = {
    "episode",    "organization", "level",       "program",      "form",   "financing",
    "grade",      "class_letter", "enrolled_on", "enroll_order", "status", "ended_on",
    "end_reason", "end_order",    "transfer_to", "events"};

typedef struct {
    const json_value_t *m[EP__MAX];
} episode_t;

typedef struct {
    episode_t *items;
    size_t n;
} episodes_t;

static void
episode_read(const json_value_t *obj, episode_t *ep)
{
    memset(ep, 0, sizeof *ep);
    for (const json_value_t *c = obj->child; c != NULL; c = c->next) {
        for (int i = 0; i < EP__MAX; i++) {
            if (c->key != NULL && strcmp(c->key, episode_names[i]) == 0)
                ep->m[i] = c;
        }
    }
}

/* The stored episodes of a student tree (room for one more). */
static bool
episodes_read(edu_ctx_t *cx, const json_value_t *student, episodes_t *eps)
{
    const json_value_t *arr = json_get(student, "education");
    size_t n = arr != NULL && arr->type == JSON_ARRAY ? arr->count : 0;

    eps->n = 0;
    eps->items = arena_calloc(cx->arena, n + 1, sizeof *eps->items);
    if (eps->items == NULL)
        return false;
    for (const json_value_t *c = n > 0 ? arr->child : NULL; c != NULL; c = c->next) {
        if (c->type == JSON_OBJECT)
            episode_read(c, &eps->items[eps->n++]);
    }
    return true;
}

static json_value_t *
episode_write(edu_ctx_t *cx, const episode_t *ep)
{
    json_value_t *obj = edu_node(cx, JSON_OBJECT, NULL);

    for (int i = 0; i < EP__MAX; i++)
        edu_add(cx, obj, episode_names[i], ep->m[i]);
    return obj;
}

static bool
episode_main(const episode_t *ep)
{
    return strcmp(edu_str(ep->m[EP_LEVEL]), "DOP") != 0;
}

static bool
episode_open(const episode_t *ep)
{
    const char *status = edu_str(ep->m[EP_STATUS]);

    return strcmp(status, "ACTIVE") == 0 || strcmp(status, "LEAVE") == 0;
}

static int64_t
episode_number(const episode_t *ep)
{
    int64_t n = 0;

    return ep->m[EP_EPISODE] != NULL && json_as_int64(ep->m[EP_EPISODE], &n) ? n : 0;
}

/* The date of the episode's last event ("" when none). */
static const char *
episode_last_date(const episode_t *ep)
{
    const json_value_t *last = NULL;

    for (const json_value_t *c = ep->m[EP_EVENTS] ? ep->m[EP_EVENTS]->child : NULL; c != NULL;
         c = c->next)
        last = c;
    return last != NULL ? edu_get_str(last, "date") : "";
}

static episode_t *
episodes_open_main(episodes_t *eps)
{
    for (size_t i = 0; i < eps->n; i++) {
        if (episode_main(&eps->items[i]) && episode_open(&eps->items[i]))
            return &eps->items[i];
    }
    return NULL;
}

/* Applying. */

typedef struct {
    edu_ctx_t *cx;
    const json_value_t *ev; /* the validated event */
    const char *type, *date;
    episodes_t eps;
    const char *organization; /* the student's, after the event */
    episode_t *target;        /* the episode changed or opened */
} edu_apply_t;

static json_value_t *
edu_int_node(edu_ctx_t *cx, int64_t v)
{
    return edu_node(cx, JSON_NUMBER, arena_printf(cx->arena, "%lld", (long long)v));
}

/* The event as kept in its episode's events[]: the event's own members. */
static json_value_t *
edu_event_entry(edu_apply_t *a)
{
    static const char *const kept[] = {
        "type", "date", "order", "grade", "class_letter", "to_organization", "note", NULL};
    json_value_t *e = edu_node(a->cx, JSON_OBJECT, NULL);

    for (size_t i = 0; kept[i] != NULL; i++)
        edu_add(a->cx, e, kept[i], json_get(a->ev, kept[i]));
    return e;
}

/* events[] of the episode with the event appended. */
static bool
edu_push_event(edu_apply_t *a, episode_t *ep)
{
    json_value_t *arr = edu_node(a->cx, JSON_ARRAY, NULL);
    size_t n = 0;

    for (const json_value_t *c = ep->m[EP_EVENTS] ? ep->m[EP_EVENTS]->child : NULL; c != NULL;
         c = c->next, n++)
        edu_add(a->cx, arr, NULL, c);
    if (n >= EDUCATION_EVENTS_MAX) {
        edu_fail(a->cx, "/type", KT_FORMAT, "An episode has at most 200 events");
        return false;
    }
    edu_add(a->cx, arr, NULL, edu_event_entry(a));
    ep->m[EP_EVENTS] = arr;
    return true;
}

/* ENROLL, TRANSFER_IN: a new episode. */
static void
edu_open(edu_apply_t *a)
{
    const json_value_t *ev = a->ev;
    bool main_level = strcmp(edu_get_str(ev, "level"), "DOP") != 0;
    episode_t *ep = &a->eps.items[a->eps.n];

    if (main_level && episodes_open_main(&a->eps) != NULL)
        edu_fail(a->cx, "/type", KT_EPISODE_OPEN, "End the open main-education episode first");
    for (size_t i = 0; main_level && i < a->eps.n; i++) {
        const episode_t *p = &a->eps.items[i];
        if (!episode_main(p))
            continue;
        if (edu_before(a->date, edu_str(p->m[EP_ENROLLED_ON])) ||
            edu_before(a->date, edu_str(p->m[EP_ENDED_ON]))) {
            edu_fail(a->cx, "/date", KT_DATE_ORDER,
                     "The date is before the start or end of the previous main-education episode");
            break;
        }
    }
    if (a->eps.n >= EDUCATION_EPISODES_MAX) {
        edu_fail(a->cx, "/type", KT_FORMAT, "A student has at most 50 episodes");
        return;
    }
    memset(ep, 0, sizeof *ep);
    ep->m[EP_EPISODE] = edu_int_node(a->cx, (int64_t)a->eps.n + 1);
    ep->m[EP_ORGANIZATION] = json_get(ev, "organization");
    ep->m[EP_LEVEL] = json_get(ev, "level");
    ep->m[EP_PROGRAM] = json_get(ev, "program");
    ep->m[EP_FORM] = json_get(ev, "form");
    ep->m[EP_FINANCING] = json_get(ev, "financing");
    ep->m[EP_GRADE] = json_get(ev, "grade");
    ep->m[EP_CLASS_LETTER] = json_get(ev, "class_letter");
    ep->m[EP_ENROLLED_ON] = json_get(ev, "date");
    ep->m[EP_ENROLL_ORDER] = json_get(ev, "order");
    ep->m[EP_STATUS] = edu_node(a->cx, JSON_STRING, "ACTIVE");
    a->eps.n++;
    a->target = ep;
    edu_push_event(a, ep);
    if (main_level)
        a->organization = edu_str(ep->m[EP_ORGANIZATION]);
}

/* The episode an event on an existing episode is about, or NULL (reported). */
static episode_t *
edu_find_target(edu_apply_t *a)
{
    const json_value_t *sel = json_get(a->ev, "episode");
    int64_t want = 0;

    if (sel == NULL || !json_as_int64(sel, &want)) {
        episode_t *ep = episodes_open_main(&a->eps);
        if (ep == NULL)
            edu_fail(a->cx, "/type", KT_NO_OPEN_EPISODE, "No main-education episode is open");
        return ep;
    }
    for (size_t i = 0; i < a->eps.n; i++) {
        episode_t *ep = &a->eps.items[i];
        if (episode_number(ep) == want && episode_open(ep))
            return ep;
    }
    edu_fail(a->cx, "/episode", KT_NO_OPEN_EPISODE, "No open episode has this number");
    return NULL;
}

/* Whether the event fits the episode's status (ACTIVE or LEAVE). */
static bool
edu_state_ok(const char *type, bool on_leave)
{
    if (strcmp(type, "RETURN") == 0)
        return on_leave;
    if (strcmp(type, "TRANSFER_CLASS") == 0 || strcmp(type, "ACADEMIC_LEAVE") == 0 ||
        strcmp(type, "GRADUATE") == 0)
        return !on_leave;
    return true;
}

static void
edu_check_change(edu_apply_t *a, const episode_t *ep)
{
    bool on_leave = strcmp(edu_str(ep->m[EP_STATUS]), "LEAVE") == 0;
    const char *to = edu_get_str(a->ev, "to_organization");

    if (edu_before(a->date, edu_str(ep->m[EP_ENROLLED_ON])) ||
        edu_before(a->date, episode_last_date(ep)))
        edu_fail(a->cx, "/date", KT_DATE_ORDER,
                 "The date is before the enrolment or the episode's previous event");
    if (!edu_state_ok(a->type, on_leave))
        edu_fail(a->cx, "/type", KT_EPISODE_STATE,
                 on_leave ? "The student is on academic leave"
                          : "The student is not on academic leave");
    if (to[0] != '\0' && strcmp(to, edu_str(ep->m[EP_ORGANIZATION])) == 0)
        edu_fail(a->cx, "/to_organization", KT_FORMAT,
                 "A transfer to the same organisation is a transfer to another class");
}

/* TRANSFER_CLASS, ACADEMIC_LEAVE, RETURN, TRANSFER_OUT, EXPEL, GRADUATE. */
static void
edu_change(edu_apply_t *a)
{
    episode_t *ep = edu_find_target(a);

    if (ep == NULL)
        return;
    a->target = ep;
    edu_check_change(a, ep);
    if (strcmp(a->type, "TRANSFER_CLASS") == 0) {
        ep->m[EP_GRADE] = json_get(a->ev, "grade");
        ep->m[EP_CLASS_LETTER] = json_get(a->ev, "class_letter");
    } else if (strcmp(a->type, "ACADEMIC_LEAVE") == 0 || strcmp(a->type, "RETURN") == 0) {
        ep->m[EP_STATUS] =
            edu_node(a->cx, JSON_STRING, strcmp(a->type, "RETURN") == 0 ? "ACTIVE" : "LEAVE");
    } else if (education_is_ending(a->type)) {
        ep->m[EP_STATUS] = edu_node(a->cx, JSON_STRING, "ENDED");
        ep->m[EP_ENDED_ON] = json_get(a->ev, "date");
        ep->m[EP_END_REASON] = json_get(a->ev, "type");
        ep->m[EP_END_ORDER] = json_get(a->ev, "order");
        ep->m[EP_TRANSFER_TO] = json_get(a->ev, "to_organization");
    }
    edu_push_event(a, ep);
}

/* The student's members in their order, organization replaced, education last. */
static bool
edu_new_doc(edu_apply_t *a, const bson_t *student, bson_t *out)
{
    json_value_t *arr = edu_node(a->cx, JSON_ARRAY, NULL);
    bson_iter_t it;
    bson_t child;
    bool ok = bson_iter_init(&it, student);

    for (size_t i = 0; i < a->eps.n; i++)
        edu_add(a->cx, arr, NULL, episode_write(a->cx, &a->eps.items[i]));
    while (ok && bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (strcmp(key, "education") == 0)
            continue;
        if (strcmp(key, "organization") == 0)
            ok = BSON_APPEND_UTF8(out, key, a->organization);
        else
            ok = bson_append_iter(out, key, -1, &it);
    }
    if (!ok || a->cx->oom || !BSON_APPEND_ARRAY_BEGIN(out, "education", &child))
        return false;
    ok = fields_tree_to_bson(arr, &child);
    return bson_append_array_end(out, &child) && ok;
}

static void
edu_report(edu_ctx_t *cx, kt_error_t *err)
{
    if (err == NULL)
        return;
    kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION,
                 "The event contradicts the education history (%zu errors)", cx->nerrors);
    err->fields = cx->fields.fields;
    err->nfields = cx->fields.nfields;
}

bool
education_apply(arena_t *arena, const bson_t *student, const bson_t *event, bson_t *new_doc,
                education_outcome_t *outcome, kt_error_t *err)
{
    edu_ctx_t cx = {.arena = arena};
    edu_apply_t a = {.cx = &cx};
    json_value_t *st = codec_bson_to_tree(arena, student);
    const char *birth;

    memset(outcome, 0, sizeof *outcome);
    a.ev = codec_bson_to_tree(arena, event);
    if (st == NULL || a.ev == NULL || !episodes_read(&cx, st, &a.eps))
        goto oom;
    a.type = edu_get_str(a.ev, "type");
    a.date = edu_get_str(a.ev, "date");
    a.organization = edu_get_str(st, "organization");
    birth = edu_get_str(st, "birth_date");
    if (edu_before(a.date, birth))
        edu_fail(&cx, "/date", KT_DATE_ORDER, "The event's date is before the birth date");
    if (education_is_opening(a.type))
        edu_open(&a);
    else
        edu_change(&a);
    if (cx.oom)
        goto oom;
    if (cx.nerrors > 0) {
        edu_report(&cx, err);
        return false;
    }
    if (!edu_new_doc(&a, student, new_doc))
        goto oom;
    outcome->organization = a.organization;
    outcome->episode_org = edu_str(a.target->m[EP_ORGANIZATION]);
    outcome->episode = episode_number(a.target);
    return true;
oom:
    kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE,
                 "Not enough memory for the education history");
    return false;
}

/* The read-only rule. */

/* Equal as JSON values: members of objects in any order, integers by value. */
static bool
edu_equal(const json_value_t *a, const json_value_t *b)
{
    int64_t x, y;

    if (a->type != b->type || a->count != b->count)
        return false;
    switch (a->type) {
    case JSON_STRING:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case JSON_NUMBER:
        if (json_as_int64(a, &x) && json_as_int64(b, &y))
            return x == y;
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case JSON_ARRAY:
        for (const json_value_t *p = a->child, *q = b->child; p && q; p = p->next, q = q->next) {
            if (!edu_equal(p, q))
                return false;
        }
        return true;
    case JSON_OBJECT:
        for (const json_value_t *p = a->child; p != NULL; p = p->next) {
            const json_value_t *q = json_get(b, p->key);
            if (q == NULL || !edu_equal(p, q))
                return false;
        }
        return true;
    default:
        return true;
    }
}

static bool
edu_has_open_main(edu_ctx_t *cx, const json_value_t *student)
{
    episodes_t eps;

    return episodes_read(cx, student, &eps) && episodes_open_main(&eps) != NULL;
}

bool
education_check_body(arena_t *arena, const json_value_t *body, const bson_t *current,
                     const bson_t *doc, kt_error_t *err)
{
    edu_ctx_t cx = {.arena = arena};
    const json_value_t *given = json_get(body, "education");
    json_value_t *cur = current != NULL ? codec_bson_to_tree(arena, current) : NULL;
    const json_value_t *stored = cur != NULL ? json_get(cur, "education") : NULL;
    bool given_none = given == NULL || given->type == JSON_NULL;
    const char *org = NULL;
    bson_iter_t it;

    if (current != NULL && cur == NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_PAYLOAD_TOO_LARGE, "out of memory");
        return false;
    }
    /* Without a stored history, an empty list is the same as none. */
    if (!given_none && (stored != NULL ? !edu_equal(given, stored)
                                       : given->type != JSON_ARRAY || given->count != 0))
        edu_fail(&cx, "/education", KT_READ_ONLY,
                 "The education history is changed only by events");
    if (bson_iter_init_find(&it, doc, "organization") && BSON_ITER_HOLDS_UTF8(&it))
        org = bson_iter_utf8(&it, NULL);
    if (cur != NULL && org != NULL && strcmp(org, edu_get_str(cur, "organization")) != 0 &&
        edu_has_open_main(&cx, cur))
        edu_fail(&cx, "/organization", KT_READ_ONLY,
                 "The student's organisation is changed by transfer events (TRANSFER_OUT, "
                 "TRANSFER_IN)");
    if (cx.nerrors == 0)
        return true;
    if (err != NULL) {
        kt_error_set(err, KT_DOMAIN_INPUT, KT_VALIDATION,
                     "The student's data failed validation (%zu errors)", cx.nerrors);
        err->fields = cx.fields.fields;
        err->nfields = cx.fields.nfields;
    }
    return false;
}

bool
education_carry(const bson_t *current, bson_t *doc)
{
    bson_iter_t it;

    if (current == NULL || !bson_iter_init_find(&it, current, "education"))
        return true;
    return bson_append_iter(doc, "education", -1, &it);
}

const char *
education_transfer_to(arena_t *arena, const bson_t *student)
{
    edu_ctx_t cx = {.arena = arena};
    json_value_t *st = codec_bson_to_tree(arena, student);
    const episode_t *last = NULL;
    episodes_t eps;

    if (st == NULL || !episodes_read(&cx, st, &eps))
        return NULL;
    for (size_t i = 0; i < eps.n; i++) {
        if (episode_main(&eps.items[i]))
            last = &eps.items[i];
    }
    if (last == NULL || strcmp(edu_str(last->m[EP_STATUS]), "ENDED") != 0 ||
        strcmp(edu_str(last->m[EP_END_REASON]), "TRANSFER_OUT") != 0 ||
        last->m[EP_TRANSFER_TO] == NULL)
        return NULL;
    return edu_str(last->m[EP_TRANSFER_TO]);
}

/* Access. */

static const char *
edu_bson_str(const bson_t *doc, const char *dotted)
{
    bson_iter_t it, found;

    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, dotted, &found) &&
        BSON_ITER_HOLDS_UTF8(&found))
        return bson_iter_utf8(&found, NULL);
    return NULL;
}

kt_code_t
education_may_post(arena_t *arena, const principal_t *p, const bson_t *student, const char *type)
{
    const char *org = student != NULL ? edu_bson_str(student, "organization") : NULL, *to;

    if (p->role == ROLE_REGION || p->role == ROLE_ADMIN)
        return KT_OK;
    if (p->role != ROLE_SCHOOL)
        return KT_FORBIDDEN;
    if (student == NULL || (org != NULL && strcmp(org, p->org) == 0))
        return KT_OK;
    to = strcmp(type, "TRANSFER_IN") == 0 ? education_transfer_to(arena, student) : NULL;
    return to != NULL && strcmp(to, p->org) == 0 ? KT_OK : KT_NOT_FOUND;
}

kt_code_t
education_may_apply(const principal_t *p, const bson_t *event, const education_outcome_t *outcome,
                    const char **pointer)
{
    const char *org = edu_bson_str(event, "organization");

    *pointer = org != NULL ? "/organization" : "/episode";
    if (p->role != ROLE_SCHOOL)
        return KT_OK;
    if (org == NULL)
        org = outcome->episode_org != NULL ? outcome->episode_org : "";
    return strcmp(org, p->org) == 0 ? KT_OK : KT_FORBIDDEN;
}

const char *
education_reason(arena_t *arena, const bson_t *event)
{
    const char *type = edu_bson_str(event, "type"), *number = edu_bson_str(event, "order.number");
    const char *date = edu_bson_str(event, "order.date");
    const char *name = type != NULL ? kt_msg_code("event_type", type, false) : NULL;
    char shown[11] = "";

    /* A stored text for people, in the registry's language: the event by its
     * name, the order's date as people write it (docs/enrolment.md). */
    if (date != NULL && strlen(date) == 10)
        snprintf(shown, sizeof shown, "%.2s.%.2s.%.4s", date + 8, date + 5, date);
    /* msgcheck: data */
    return arena_printf(arena, "%s: приказ № %s от %s", name ? name : (type ? type : ""),
                        number ? number : "", shown[0] ? shown : (date ? date : ""));
}

/* The trajectory. */

typedef struct {
    const char *from, *to; /* to NULL: still open */
    const episode_t *ep;
    const json_value_t *grade, *class_letter;
    const char *status;
} segment_t;

typedef struct {
    const char *date, *type, *from_org, *to_org;
    const episode_t *ep;
} move_t;

typedef struct {
    segment_t *seg;
    size_t nseg;
    move_t *mov;
    size_t nmov;
} trajectory_t;

static void
traj_segment(trajectory_t *t, const segment_t *open, const char *to)
{
    if (open->from == NULL || (to != NULL && strcmp(open->from, to) >= 0))
        return; /* nothing yet, or a day with several events: no time in this state */
    t->seg[t->nseg] = *open;
    t->seg[t->nseg++].to = to;
}

/* The segments of one episode: a new one at each event that changes the
 * grade, the class letter or the status; an ending event closes the last. */
static void
traj_episode(trajectory_t *t, const episode_t *ep)
{
    segment_t cur = {.ep = ep, .status = "ACTIVE"};

    for (const json_value_t *e = ep->m[EP_EVENTS] ? ep->m[EP_EVENTS]->child : NULL; e != NULL;
         e = e->next) {
        const char *type = edu_get_str(e, "type"), *date = edu_get_str(e, "date");
        traj_segment(t, &cur, date);
        cur.from = date;
        if (education_is_opening(type) || strcmp(type, "TRANSFER_CLASS") == 0) {
            cur.grade = json_get(e, "grade");
            cur.class_letter = json_get(e, "class_letter");
        } else if (strcmp(type, "ACADEMIC_LEAVE") == 0 || strcmp(type, "RETURN") == 0) {
            cur.status = strcmp(type, "RETURN") == 0 ? "ACTIVE" : "LEAVE";
        } else if (education_is_ending(type)) {
            cur.from = NULL;
        }
    }
    traj_segment(t, &cur, NULL);
}

/* The organisation of the main episode before index i that ended by
 * TRANSFER_OUT, the origin of a TRANSFER_IN; NULL when none. */
static const char *
traj_origin(const episodes_t *eps, size_t i)
{
    while (i-- > 0) {
        const episode_t *p = &eps->items[i];
        if (!episode_main(p))
            continue;
        return strcmp(edu_str(p->m[EP_END_REASON]), "TRANSFER_OUT") == 0
                   ? edu_str(p->m[EP_ORGANIZATION])
                   : NULL;
    }
    return NULL;
}

static void
traj_moves(trajectory_t *t, const episodes_t *eps, size_t i)
{
    const episode_t *ep = &eps->items[i];
    const json_value_t *first = ep->m[EP_EVENTS] ? ep->m[EP_EVENTS]->child : NULL;
    const char *type = first != NULL ? edu_get_str(first, "type") : "ENROLL";
    const char *org = edu_str(ep->m[EP_ORGANIZATION]);

    t->mov[t->nmov++] = (move_t){
        edu_str(ep->m[EP_ENROLLED_ON]), type,
        strcmp(type, "TRANSFER_IN") == 0 && episode_main(ep) ? traj_origin(eps, i) : NULL, org, ep};
    if (ep->m[EP_ENDED_ON] != NULL)
        t->mov[t->nmov++] =
            (move_t){edu_str(ep->m[EP_ENDED_ON]), edu_str(ep->m[EP_END_REASON]), org,
                     ep->m[EP_TRANSFER_TO] ? edu_str(ep->m[EP_TRANSFER_TO]) : NULL, ep};
}

/* Stable insertion sorts by date (the lists are short: ≤ 50 episodes). */
static void
traj_sort_segments(segment_t *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        segment_t x = s[i];
        size_t j = i;
        for (; j > 0 && strcmp(s[j - 1].from, x.from) > 0; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
}

static void
traj_sort_moves(move_t *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        move_t x = m[i];
        size_t j = i;
        for (; j > 0 && strcmp(m[j - 1].date, x.date) > 0; j--)
            m[j] = m[j - 1];
        m[j] = x;
    }
}

static void
traj_value(jw_t *w, const char *key, const json_value_t *v)
{
    jw_key(w, key);
    jw_value(w, v);
}

static void
traj_string(jw_t *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_string(w, s);
}

static void
traj_write(jw_t *w, const trajectory_t *t)
{
    jw_key(w, "segments");
    jw_array_begin(w);
    for (size_t i = 0; i < t->nseg; i++) {
        const segment_t *s = &t->seg[i];
        jw_object_begin(w);
        traj_string(w, "from", s->from);
        traj_string(w, "to", s->to);
        traj_value(w, "episode", s->ep->m[EP_EPISODE]);
        traj_value(w, "organization", s->ep->m[EP_ORGANIZATION]);
        traj_value(w, "level", s->ep->m[EP_LEVEL]);
        traj_value(w, "grade", s->grade);
        traj_value(w, "class_letter", s->class_letter);
        traj_value(w, "form", s->ep->m[EP_FORM]);
        traj_string(w, "status", s->status);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "moves");
    jw_array_begin(w);
    for (size_t i = 0; i < t->nmov; i++) {
        const move_t *m = &t->mov[i];
        jw_object_begin(w);
        traj_string(w, "date", m->date);
        traj_string(w, "type", m->type);
        traj_string(w, "from_organization", m->from_org);
        traj_string(w, "to_organization", m->to_org);
        traj_value(w, "episode", m->ep->m[EP_EPISODE]);
        traj_value(w, "level", m->ep->m[EP_LEVEL]);
        jw_object_end(w);
    }
    jw_array_end(w);
}

bool
education_trajectory(arena_t *arena, const bson_t *student, jw_t *w)
{
    edu_ctx_t cx = {.arena = arena};
    json_value_t *st = codec_bson_to_tree(arena, student);
    trajectory_t t = {0};
    episodes_t eps;
    size_t events = 0;

    if (st == NULL || !episodes_read(&cx, st, &eps))
        return false;
    for (size_t i = 0; i < eps.n; i++)
        events += eps.items[i].m[EP_EVENTS] ? eps.items[i].m[EP_EVENTS]->count : 0;
    t.seg = arena_calloc(arena, events + eps.n + 1, sizeof *t.seg);
    t.mov = arena_calloc(arena, 2 * eps.n + 1, sizeof *t.mov);
    if (t.seg == NULL || t.mov == NULL)
        return false;
    for (size_t i = 0; i < eps.n; i++) {
        traj_episode(&t, &eps.items[i]);
        traj_moves(&t, &eps, i);
    }
    traj_sort_segments(t.seg, t.nseg);
    traj_sort_moves(t.mov, t.nmov);
    traj_write(w, &t);
    return true;
}
