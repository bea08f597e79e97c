/*
 * xmlio_write: a stored record (BSON) → XML, by the xml column of its
 * model's field table (xmlio_tree.c has the rows' meaning), in the order of
 * the table, which is the XSD's.
 */
#include "model/xmlio_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libxml/xmlwriter.h>

#include "core/utf8.h"
#include "model/organization.h"
#include "model/progress.h"
#include "model/student.h"

/* Writing: BSON of the store → XML by the field table. */

/* The document or array the iterator is at, as a bson_t over its bytes. */
static bool
xmlio_bson_sub(const bson_iter_t *it, bson_t *out)
{
    const uint8_t *data = NULL;
    uint32_t len = 0;

    if (BSON_ITER_HOLDS_DOCUMENT(it))
        bson_iter_document(it, &len, &data);
    else if (BSON_ITER_HOLDS_ARRAY(it))
        bson_iter_array(it, &len, &data);
    return data != NULL && bson_init_static(out, data, len);
}

/* A string member into *s (NULL when the member is no string); false for a
 * string that is not UTF-8 without NUL, which no XML can carry. */
static bool
xmlio_bson_string(const bson_iter_t *it, const char **s)
{
    uint32_t len = 0;

    *s = NULL;
    if (!BSON_ITER_HOLDS_UTF8(it))
        return true;
    *s = bson_iter_utf8(it, &len);
    return utf8_valid(*s, len);
}

static bool
xmlio_write_text(xmlTextWriterPtr w, const bson_iter_t *it, const char *name)
{
    const char *s;

    if (!xmlio_bson_string(it, &s))
        return false;
    return s == NULL || xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST s) >= 0;
}

/* An integer or a boolean member as the element's text; other types are
 * not this row's and are left out, as strings of other rows are. */
static bool
xmlio_write_scalar(xmlTextWriterPtr w, const bson_iter_t *it, const char *name)
{
    char text[24];

    if (BSON_ITER_HOLDS_INT64(it) || BSON_ITER_HOLDS_INT32(it))
        snprintf(text, sizeof text, "%" PRId64,
                 BSON_ITER_HOLDS_INT64(it) ? bson_iter_int64(it) : bson_iter_int32(it));
    else if (BSON_ITER_HOLDS_BOOL(it))
        snprintf(text, sizeof text, "%s", bson_iter_bool(it) ? "true" : "false");
    else
        return true;
    return xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text) >= 0;
}

static bool xmlio_write_members(xmlTextWriterPtr w, const bson_t *doc, const field_t *table);

/* The member key of doc as the attribute name, when it is a string. */
static bool
xmlio_write_attr(xmlTextWriterPtr w, const bson_t *doc, const char *key, const char *name)
{
    bson_iter_t it;
    const char *value = NULL;

    char number[24];

    if (!bson_iter_init_find(&it, doc, key))
        return true;
    if (BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)) { /* an INT attribute */
        snprintf(number, sizeof number, "%" PRId64, bson_iter_as_int64(&it));
        return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST number) >= 0;
    }
    if (!xmlio_bson_string(&it, &value))
        return false;
    return value == NULL || xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value) >= 0;
}

/* The members of table that are attributes (type, kind, category, ogrn). */
static bool
xmlio_write_attrs(xmlTextWriterPtr w, const bson_t *doc, const field_t *table)
{
    bool ok = true;

    for (const field_t *f = table; ok && f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        if (xmlio_is_attribute(x))
            ok = xmlio_write_attr(w, doc, f->name, x->xml + 1);
    }
    return ok;
}

/* <Name attr="…">members</Name> from a sub-document. */
static bool
xmlio_write_object(xmlTextWriterPtr w, const bson_iter_t *it, const field_t *row)
{
    bson_t sub;

    if (!BSON_ITER_HOLDS_DOCUMENT(it) || !xmlio_bson_sub(it, &sub))
        return true;
    return xmlTextWriterStartElement(w, BAD_CAST row->xml) >= 0 &&
           xmlio_write_attrs(w, &sub, row->child) && xmlio_write_members(w, &sub, row->child) &&
           xmlTextWriterEndElement(w) >= 0;
}

/* The items of an array, each as the item row says; name is the element
 * of an item that is text. */
static bool
xmlio_write_items(xmlTextWriterPtr w, const bson_t *array, const field_t *item, const char *name)
{
    bson_iter_t it;
    bool ok = bson_iter_init(&it, array);

    while (ok && bson_iter_next(&it)) {
        if (item->type == FIELD_T_OBJECT)
            ok = xmlio_write_object(w, &it, item);
        else
            ok = xmlio_write_text(w, &it, name);
    }
    return ok;
}

static bool
xmlio_write_array(xmlTextWriterPtr w, const bson_iter_t *it, const field_t *row)
{
    bson_t array;

    /* An empty list is written as no element: Documents needs one item. */
    if (!BSON_ITER_HOLDS_ARRAY(it) || !xmlio_bson_sub(it, &array) || bson_count_keys(&array) == 0)
        return true;
    if (xmlio_repeats_itself(row))
        return xmlio_write_items(w, &array, row->child, row->xml);
    return xmlTextWriterStartElement(w, BAD_CAST row->xml) >= 0 &&
           xmlio_write_items(w, &array, row->child, row->child->xml) &&
           xmlTextWriterEndElement(w) >= 0;
}

/* The members of doc that table names as elements, in the table's order;
 * others (the store's own) are not part of the format. */
static bool
xmlio_write_members(xmlTextWriterPtr w, const bson_t *doc, const field_t *table)
{
    bool ok = true;

    for (const field_t *f = table; ok && f->type != FIELD_T_END; f++) {
        const field_t *x = xmlio_xml_row(f);
        bson_iter_t it;
        if (!xmlio_is_element(x) || !bson_iter_init_find(&it, doc, f->name))
            continue;
        if (x->type == FIELD_T_STRING || x->type == FIELD_T_ENUM)
            ok = xmlio_write_text(w, &it, x->xml);
        else if (x->type == FIELD_T_INT || x->type == FIELD_T_BOOL)
            ok = xmlio_write_scalar(w, &it, x->xml);
        else if (x->type == FIELD_T_OBJECT)
            ok = xmlio_write_object(w, &it, x);
        else if (x->type == FIELD_T_ARRAY)
            ok = xmlio_write_array(w, &it, x);
    }
    return ok;
}

static bool
xmlio_write_root(xmlTextWriterPtr w, const char *id, int64_t version, bool deleted,
                 const bson_t *doc)
{
    char number[24];
    /* xmlns as the first attribute: xmlTextWriterStartElementNS() would put it last. */
    bool ok = xmlTextWriterStartElement(w, BAD_CAST "Student") >= 0 &&
              xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST XMLIO_NS) >= 0;

    if (ok && id != NULL)
        ok = utf8_valid(id, strlen(id)) &&
             xmlTextWriterWriteAttribute(w, BAD_CAST "id", BAD_CAST id) >= 0;
    if (ok && version > 0) {
        snprintf(number, sizeof number, "%" PRId64, version);
        ok = xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST number) >= 0;
    }
    if (ok)
        ok = xmlTextWriterWriteAttribute(w, BAD_CAST "state",
                                         BAD_CAST(deleted ? "DELETED" : "ACTIVE")) >= 0;
    return ok && xmlio_write_members(w, doc, student_root.child) && xmlTextWriterEndElement(w) >= 0;
}

bool
xmlio_write_organization(xmlTextWriterPtr w, int64_t version, const bson_t *doc)
{
    xmlio_global_t saved;
    bson_iter_t it;
    const char *ogrn = NULL;
    char number[24];
    bool ok;

    xmlio_global_enter(&saved, NULL);
    /* The ОГРН names the organisation: an attribute the XSD requires. */
    ok = bson_iter_init_find(&it, doc, "ogrn") && xmlio_bson_string(&it, &ogrn) && ogrn != NULL &&
         xmlTextWriterStartElement(w, BAD_CAST "Organization") >= 0 &&
         xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST XMLIO_NS) >= 0 &&
         xmlio_write_attrs(w, doc, organization_root.child);
    if (ok && version > 0) {
        snprintf(number, sizeof number, "%" PRId64, version);
        ok = xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST number) >= 0;
    }
    ok = ok && xmlio_write_members(w, doc, organization_root.child) &&
         xmlTextWriterEndElement(w) >= 0;
    xmlio_global_leave(&saved);
    return ok;
}

bool
xmlio_write_student(xmlTextWriterPtr w, const char *id, int64_t version, bool deleted,
                    const bson_t *doc)
{
    xmlio_global_t saved;
    bool ok;

    xmlio_global_enter(&saved, NULL);
    ok = xmlio_write_root(w, id, version, deleted, doc);
    xmlio_global_leave(&saved);
    return ok;
}

/* An attribute from a string member of doc, when it holds one. */
static bool
xmlio_write_member_attr(xmlTextWriterPtr w, const bson_t *doc, const char *member, const char *name)
{
    bson_iter_t it;
    const char *v = NULL;

    if (!bson_iter_init_find(&it, doc, member))
        return true;
    return xmlio_bson_string(&it, &v) && v != NULL &&
           xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST v) >= 0;
}

bool
xmlio_write_progress(xmlTextWriterPtr w, int64_t version, const bson_t *doc)
{
    xmlio_global_t saved;
    char number[24];
    bool ok;

    xmlio_global_enter(&saved, NULL);
    ok = xmlTextWriterStartElement(w, BAD_CAST "Progress") >= 0 &&
         xmlTextWriterWriteAttribute(w, BAD_CAST "xmlns", BAD_CAST XMLIO_NS) >= 0 &&
         xmlio_write_member_attr(w, doc, "student_id", "student") &&
         xmlio_write_attrs(w, doc, progress_root.child) &&
         xmlio_write_member_attr(w, doc, "organization", "organization");
    if (ok && version > 0) {
        snprintf(number, sizeof number, "%" PRId64, version);
        ok = xmlTextWriterWriteAttribute(w, BAD_CAST "version", BAD_CAST number) >= 0;
    }
    ok = ok && xmlio_write_members(w, doc, progress_root.child) && xmlTextWriterEndElement(w) >= 0;
    xmlio_global_leave(&saved);
    return ok;
}
