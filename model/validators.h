/*
 * validators: pure checks of Russian identifiers and dates, used by the
 * field tables of model/. No allocation, no I/O. Rules and sources:
 * ../shared/research/federal.md §3 and docs/data-model.md.
 */
#ifndef KT_VALIDATORS_H
#define KT_VALIDATORS_H

#include <stdbool.h>
#include <stddef.h>

/* "123-456-789 64", "12345678964" → "12345678964". False when the shape is
 * neither (the checksum is not looked at here). out has room for 12 bytes. */
bool snils_normalize(const char *in, char out[12]);

/* The СНИЛС check number over 11 digits: sum of digit × (9 … 1) of the first
 * nine; < 100 → itself, 100 or 101 → 00, > 101 → sum mod 101 (then 100 → 00).
 * Numbers ≤ 001-001-998 have no check number and are accepted as given. */
bool snils_checksum_ok(const char digits[11]);

/* ОГРН: 13 digits, check digit = (first 12 mod 11) mod 10; ОГРНИП: 15 digits,
 * (first 14 mod 13) mod 10. */
bool ogrn_valid(const char *s);

/* ИНН: 10 digits (organisation) or 12 (person), with their check digits. */
bool inn_valid(const char *s);

/* КПП: 9 characters, NNNN PP NNN where PP is two digits or capital Latin letters. */
bool kpp_valid(const char *s);

/* ОКТМО: 8 or 11 digits. */
bool oktmo_valid(const char *s);

/* A real calendar date "YYYY-MM-DD" (leap years included); fills y, m, d. */
bool date_parse(const char *s, int *y, int *m, int *d);

/* Compares two valid "YYYY-MM-DD" strings like strcmp. */
int date_compare(const char *a, const char *b);

/* date_today, the region's today: model/calendar.h. */

#endif
