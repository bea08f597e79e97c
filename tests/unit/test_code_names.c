/* Every code list of the model has its names in both languages in the code
 * catalogue (core/msg_catalogue.c): for each ENUM field, some list of the
 * catalogue names all of its values (docs/i18n.md "Codes"). */
#include <string.h>

#include "check.h"
#include "core/msg.h"
#include "model/education.h"
#include "model/organization.h"
#include "model/results.h"
#include "model/student.h"

static bool
list_names_all(const char *list, const char *const *values)
{
    for (size_t i = 0; values[i] != NULL; i++)
        if (kt_msg_code(list, values[i], false) == NULL ||
            kt_msg_code(list, values[i], true) == NULL)
            return false;
    return true;
}

static bool
some_list_names_all(const char *const *values)
{
    for (size_t i = 0; i < kt_msg_code_count(); i++)
        if (list_names_all(kt_msg_code_at(i)->list, values))
            return true;
    return false;
}

static size_t enums_seen;

static void
walk(const field_t *f, const char *where)
{
    enums_seen += f->type == FIELD_T_ENUM;
    if (f->type == FIELD_T_ENUM && !some_list_names_all(f->values)) {
        fprintf(stderr, "no code list names every value of %s/%s\n", where, f->name);
        CHECK(false);
    }
    if (f->type == FIELD_T_ARRAY && f->child != NULL)
        walk(f->child, f->name ? f->name : where);
    if (f->type == FIELD_T_OBJECT && f->child != NULL)
        for (const field_t *m = f->child; m->type != FIELD_T_END; m++)
            walk(m, f->name ? f->name : where);
}

static void
test_every_enum_has_names(void)
{
    walk(&student_root, "student");
    walk(&education_event_root, "event");
    walk(&education_episodes, "education");
    walk(&organization_root, "organization");
    walk(&results_achievement, "achievements");
    walk(&results_exam, "exams");
    walk(&results_certificate, "certificates");
    CHECK(enums_seen >= 20); /* the walk reached the nested tables */
}

int
main(void)
{
    CHECK_RUN(test_every_enum_has_names);
    CHECK_MAIN_END();
}
