/*
 * xmlio_tree: XML ⇄ JSON by the models' field tables. Each member's XML
 * name is a column of its model's table (model/fields.h, "XML names"), so
 * a student, an organisation or an event is declared once: the reader's
 * tree (an item → the JSON its model's _from_json() takes), the pointer →
 * XPath translation of field errors, the positions in XSD errors' XPaths
 * and the writer (xmlio_write.c) all walk the same rows.
 */
#include "model/xmlio_internal.h"

#include <string.h>

#include "model/education.h"
#include "model/organization.h"
#include "model/progress.h"
#include "model/student.h"

/* Mapping XML ⇄ JSON: the models' field tables name every member's element
 * or attribute (the xml column, model/fields.h); reading, writing and the
 * pointer-to-XPath translation all walk them. What is left here is the
 * item's envelope. */
const char *const xmlio_item_names[XMLIO_ITEM__MAX] = {
    [XMLIO_ITEM_STUDENT] = "Student",   [XMLIO_ITEM_DELETE] = "DeleteStudent",
    [XMLIO_ITEM_EVENT] = "Event",       [XMLIO_ITEM_ORGANIZATION] = "Organization",
    [XMLIO_ITEM_PROGRESS] = "Progress",
};

/* The store's attributes of a record (xmlio_shape_of_t): a student's id,
 * version and state, an organisation's version (its ОГРН is a field). */
static const char *const xmlio_student_attrs[] = {"id", "version", "state", NULL};
static const char *const xmlio_org_attrs[] = {"version", NULL};

/* An event's attributes are the item's (student, localId, reason), not members. */
static const char *const xmlio_no_attrs[] = {NULL};

/* The shape of each kind of item (root NULL: an item without members). */
const xmlio_shape_of_t xmlio_item_shapes[XMLIO_ITEM__MAX] = {
    [XMLIO_ITEM_STUDENT] = {&student_root, xmlio_student_attrs},
    [XMLIO_ITEM_EVENT] = {&education_event_root, xmlio_no_attrs},
    [XMLIO_ITEM_ORGANIZATION] = {&organization_root, xmlio_org_attrs},
    [XMLIO_ITEM_PROGRESS] = {&progress_root, xmlio_org_attrs},
};

static const field_t *xmlio_member_row(const field_t *table, const char *name);

/* Whether the element name inside parent repeats by design in table: the
 * item of an ARRAY with a container (Document in Documents) or one that
 * repeats itself (Country). */
bool
xmlio_table_repeats(const field_t *table, const xmlChar *parent, const xmlChar *name)
{
    for (const field_t *f = table; f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f), *sub = NULL;
        if (!xmlio_is_element(x))
            continue;
        if (x->type == FIELD_T_OBJECT)
            sub = x->child;
        if (x->type == FIELD_T_ARRAY && xmlio_repeats_itself(x) &&
            xmlStrEqual(name, BAD_CAST x->xml))
            return true;
        if (x->type == FIELD_T_ARRAY && !xmlio_repeats_itself(x)) {
            if (xmlStrEqual(parent, BAD_CAST x->xml) && xmlStrEqual(name, BAD_CAST x->child->xml))
                return true;
            sub = x->child->type == FIELD_T_OBJECT ? x->child->child : NULL;
        }
        if (sub != NULL && xmlio_table_repeats(sub, parent, name))
            return true;
    }
    return false;
}

/* Whether an element's local name is Health or a member of the health
 * block: decided on the name alone, before the schema has a say, so that an
 * item that breaks the XSD still counts as carrying health data. */
bool
xmlio_health_name(const xmlChar *name)
{
    const field_t *health = xmlio_member_row(student_root.child, "health");

    if (health == NULL || xmlStrEqual(name, BAD_CAST health->xml))
        return health != NULL;
    for (const field_t *f = health->child; f->type != FIELD_T_END; f++) {
        if (xmlio_is_element(xmlio_xml_row(f)) && xmlStrEqual(name, BAD_CAST f->xml))
            return true;
    }
    return false;
}

/* The record tree: XML → JSON by the field table. */
typedef struct {
    arena_t *arena;
    bool oom;
} xmlio_tree_t;

/* A node of type with a copy of len bytes of str (NULL: none). */
static json_value_t *
xmlio_tree_node(xmlio_tree_t *t, json_type_t type, const char *str, size_t len)
{
    json_value_t *v = arena_calloc(t->arena, 1, sizeof *v);

    if (v == NULL) {
        t->oom = true;
        return NULL;
    }
    v->type = type;
    if (str != NULL) {
        v->str = arena_strndup(t->arena, str, len);
        v->len = len;
        t->oom = t->oom || v->str == NULL;
    }
    return v;
}

/* Appends child to parent (an object, with key, or an array, key NULL);
 * does nothing when either is NULL after a failed allocation. */
static void
xmlio_tree_add(json_value_t *parent, const char *key, json_value_t *child)
{
    json_value_t **at;

    if (parent == NULL || child == NULL)
        return;
    child->key = key;
    child->key_len = key != NULL ? strlen(key) : 0;
    for (at = &parent->child; *at != NULL; at = &(*at)->next)
        continue;
    *at = child;
    parent->count++;
}

/* The next element child of parent named name after after (NULL: the first). */
static const xmlNode *
xmlio_child(const xmlNode *parent, const char *name, const xmlNode *after)
{
    const xmlNode *c = after != NULL ? after->next : parent->children;

    for (; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST name))
            return c;
    }
    return NULL;
}

static json_value_t *
xmlio_tree_text(xmlio_tree_t *t, const xmlNode *elem)
{
    xmlChar *text = xmlNodeGetContent(elem);
    json_value_t *v;

    if (text == NULL) {
        t->oom = true;
        return NULL;
    }
    v = xmlio_tree_node(t, JSON_STRING, (const char *)text, (size_t)xmlStrlen(text));
    xmlFree(text);
    return v;
}

/* An INT's text as a number literal (the XSD allows only digits without
 * leading zeros), a BOOL's "true"/"false" as true/false. */
static json_value_t *
xmlio_tree_typed(xmlio_tree_t *t, const xmlNode *elem, bool number)
{
    json_value_t *v = xmlio_tree_text(t, elem);

    if (v != NULL && number)
        v->type = JSON_NUMBER;
    else if (v != NULL)
        v->type = strcmp(v->str, "true") == 0 ? JSON_TRUE : JSON_FALSE;
    return v;
}

/* Adds the attribute name of elem to obj as the member key. */
static void
xmlio_tree_attr(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem, const char *key,
                const char *name, json_type_t type)
{
    xmlChar *value = xmlGetNoNsProp(elem, BAD_CAST name);

    if (value == NULL)
        return;
    xmlio_tree_add(obj, key,
                   xmlio_tree_node(t, type, (const char *)value, (size_t)xmlStrlen(value)));
    xmlFree(value);
}

/* The members of table that are attributes of elem (they come first). */
static void
xmlio_tree_attrs(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem, const field_t *table)
{
    for (const field_t *f = table; f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        if (xmlio_is_attribute(x))
            xmlio_tree_attr(t, obj, elem, f->name, x->xml + 1,
                            x->type == FIELD_T_INT ? JSON_NUMBER : JSON_STRING);
    }
}

static void xmlio_tree_members(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem,
                               const field_t *table);
static json_value_t *
xmlio_tree_object(xmlio_tree_t *t, const xmlNode *elem, const field_t *row)
{
    json_value_t *obj = xmlio_tree_node(t, JSON_OBJECT, NULL, 0);

    xmlio_tree_attrs(t, obj, elem, row->child);
    xmlio_tree_members(t, obj, elem, row->child);
    return obj;
}

static json_value_t *xmlio_tree_value(xmlio_tree_t *t, const xmlNode *elem, const field_t *row);

/* Every child of parent named name, converted by the item row, as an array. */
static json_value_t *
xmlio_tree_array(xmlio_tree_t *t, const xmlNode *parent, const char *name, const field_t *item)
{
    json_value_t *array = xmlio_tree_node(t, JSON_ARRAY, NULL, 0);

    for (const xmlNode *c = xmlio_child(parent, name, NULL); c != NULL;
         c = xmlio_child(parent, name, c))
        xmlio_tree_add(array, NULL, xmlio_tree_value(t, c, item));
    return array;
}

static json_value_t *
xmlio_tree_value(xmlio_tree_t *t, const xmlNode *elem, const field_t *row)
{
    switch (row->type) {
    case FIELD_T_STRING:
    case FIELD_T_ENUM:
        return xmlio_tree_text(t, elem);
    case FIELD_T_OBJECT:
        return xmlio_tree_object(t, elem, row);
    case FIELD_T_ARRAY:
        return xmlio_tree_array(t, elem, row->child->xml, row->child);
    case FIELD_T_INT:
        return xmlio_tree_typed(t, elem, true);
    case FIELD_T_BOOL:
        return xmlio_tree_typed(t, elem, false);
    default:
        return NULL;
    }
}

/* The members of obj from elem's children, in the order of table. An ARRAY
 * that repeats itself is a member only when at least one element is there. */
static void
xmlio_tree_members(xmlio_tree_t *t, json_value_t *obj, const xmlNode *elem, const field_t *table)
{
    for (const field_t *f = table; f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        const xmlNode *child = xmlio_is_element(x) ? xmlio_child(elem, x->xml, NULL) : NULL;
        if (child == NULL)
            continue;
        if (xmlio_repeats_itself(x))
            xmlio_tree_add(obj, f->name, xmlio_tree_array(t, elem, x->xml, x->child));
        else
            xmlio_tree_add(obj, f->name, xmlio_tree_value(t, child, x));
    }
}

/* The record as its model's _from_json() takes it: the root's attributes
 * first (the table's, then the store's, version a number), as GET answers
 * them, then the fields. */
json_value_t *
xmlio_record_tree(arena_t *arena, const xmlNode *root, const xmlio_shape_of_t *shape)
{
    xmlio_tree_t t = {arena, false};
    json_value_t *obj = xmlio_tree_node(&t, JSON_OBJECT, NULL, 0);

    xmlio_tree_attrs(&t, obj, root, shape->root->child);
    for (size_t i = 0; shape->attrs[i] != NULL; i++) {
        bool number = strcmp(shape->attrs[i], "version") == 0;
        xmlio_tree_attr(&t, obj, root, shape->attrs[i], shape->attrs[i],
                        number ? JSON_NUMBER : JSON_STRING);
    }
    xmlio_tree_members(&t, obj, root, shape->root->child);
    return t.oom ? NULL : obj;
}

/* JSON Pointer → XPath. */

/* Reads one pointer segment (up to '/' or the end) into seg; returns what
 * follows, or NULL when the segment is longer than any name we know. */
static const char *
xmlio_segment(const char *p, char *seg, size_t cap)
{
    size_t n = strcspn(p, "/");

    if (n >= cap)
        return NULL;
    memcpy(seg, p, n);
    seg[n] = '\0';
    return p + n;
}

/* An array index of a pointer: digits, no leading zero. */
static bool
xmlio_index(const char *seg, size_t *out)
{
    size_t v = 0;

    if (seg[0] == '\0' || (seg[0] == '0' && seg[1] != '\0'))
        return false;
    for (const char *p = seg; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v >= XMLIO_INDEX_MAX)
            return false;
        v = v * 10 + (size_t)(*p - '0');
    }
    *out = v;
    return true;
}

/* The XML row of the member name of table, or NULL when it has none. */
static const field_t *
xmlio_member_row(const field_t *table, const char *name)
{
    for (const field_t *f = table; f != NULL && f->type != FIELD_T_END; f++) {
        if (strcmp(f->name, name) == 0)
            return xmlio_xml_row(f);
    }
    return NULL;
}

static bool
xmlio_is_root_attr(const char *const *attrs, const char *seg)
{
    for (size_t i = 0; attrs[i] != NULL; i++) {
        if (strcmp(attrs[i], seg) == 0)
            return true;
    }
    return false;
}

/* Where a pointer walk stands: the members of the current object (NULL at
 * a leaf), whether it is the record's root, and an ARRAY row whose index
 * comes next. */
typedef struct {
    const char *const *root_attrs;
    const field_t *rows;
    bool at_root;
    const field_t *pending;
    char *out;
    size_t cap, len;
} xmlio_walk_t;

static bool
xmlio_walk_index(xmlio_walk_t *w, const char *seg)
{
    const field_t *item = w->pending->child;
    size_t i;

    if (!xmlio_index(seg, &i))
        return false;
    w->pending = NULL;
    if (item->xml == NULL) {
        xmlio_append(w->out, w->cap, &w->len, "[%zu]", i + 1);
        w->rows = NULL;
        return true;
    }
    xmlio_append(w->out, w->cap, &w->len, "/%s[%zu]", item->xml, i + 1);
    w->rows = item->type == FIELD_T_OBJECT ? item->child : NULL;
    return true;
}

static bool
xmlio_walk_member(xmlio_walk_t *w, const char *seg)
{
    const field_t *x;

    /* The store's attributes (a student's id, version and state) are members. */
    if (w->at_root && xmlio_is_root_attr(w->root_attrs, seg)) {
        xmlio_append(w->out, w->cap, &w->len, "/@%s", seg);
        w->rows = NULL;
        return true;
    }
    w->at_root = false;
    x = xmlio_member_row(w->rows, seg);
    if (x == NULL)
        return false;
    xmlio_append(w->out, w->cap, &w->len, "/%s", x->xml);
    w->rows = x->type == FIELD_T_OBJECT && !xmlio_is_attribute(x) ? x->child : NULL;
    if (x->type == FIELD_T_ARRAY)
        w->pending = x;
    return true;
}

/* The path below the item for a pointer into the record; false for a
 * pointer the table does not know. */
static bool
xmlio_pointer_walk(const xmlio_shape_of_t *shape, const char *pointer, char *out, size_t cap)
{
    xmlio_walk_t w = {shape->attrs, shape->root->child, true, NULL, out, cap, 0};
    char seg[XMLIO_SEGMENT_MAX];

    out[0] = '\0';
    while (*pointer != '\0') {
        if (*pointer != '/' || (w.rows == NULL && w.pending == NULL))
            return false;
        pointer = xmlio_segment(pointer + 1, seg, sizeof seg);
        if (pointer == NULL)
            return false;
        if (w.pending != NULL ? !xmlio_walk_index(&w, seg) : !xmlio_walk_member(&w, seg))
            return false;
    }
    return true;
}

const char *
xmlio_pointer_to_xpath(arena_t *arena, const char *item_xpath, const char *pointer)
{
    /* The item's element, named by its XPath, says which table the pointer walks. */
    bool org = item_xpath != NULL && strncmp(item_xpath, "/Packet/Data/Organization[", 26) == 0;
    bool progress = item_xpath != NULL && strncmp(item_xpath, "/Packet/Data/Progress[", 22) == 0;

    return xmlio_item_pointer_to_xpath(arena,
                                       progress ? XMLIO_ITEM_PROGRESS
                                       : org    ? XMLIO_ITEM_ORGANIZATION
                                                : XMLIO_ITEM_STUDENT,
                                       item_xpath, pointer);
}

const char *
xmlio_item_pointer_to_xpath(arena_t *arena, xmlio_item_kind_t kind, const char *item_xpath,
                            const char *pointer)
{
    const xmlio_shape_of_t *shape =
        kind >= 0 && kind < XMLIO_ITEM__MAX ? &xmlio_item_shapes[kind] : NULL;
    char below[XMLIO_XPATH_MAX];
    const char *xpath;

    if (item_xpath == NULL)
        item_xpath = "";
    if (pointer == NULL || shape == NULL || shape->root == NULL ||
        !xmlio_pointer_walk(shape, pointer, below, sizeof below))
        return item_xpath;
    xpath = arena_printf(arena, "%s%s", item_xpath, below);
    return xpath != NULL ? xpath : item_xpath;
}
