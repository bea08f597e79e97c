/*
 * bench_duplicates: the probable-duplicate search (service/duplicates.h;
 * docs/duplicates.md) on a generated region with planted duplicates — its
 * precision and recall, and the time of one candidate query as the region
 * grows. Run by bench/duplicates; not a test.
 *
 *   bench_duplicates DIR SIZE...   for each SIZE (ascending), a fresh SQLite
 *                                  store DIR/dup-SIZE.sqlite of SIZE children
 *                                  (KT_STORE=mongodb: MONGODB_URI, KT_DB-SIZE)
 *
 * The population (a fixed seed, so each size holds the same kinds of
 * children): surnames from a list of common Russian and Tatar ones (a third)
 * and made of syllables (the rest), a first name from a list of 40 per sex,
 * a patronymic, a birth date in 2008 … 2019, a birth place, a СНИЛС for nine
 * in ten, a mother with a СНИЛС for eight in ten, a birth certificate, a
 * school per 500 children. Hard negatives are part of it: one child in
 * twenty has a sibling (the same surname, patronymic and mother, born 1 … 5
 * years apart) and one in two hundred a twin (the same day, another first
 * name). Then one child in a hundred gets a planted duplicate at another
 * school, without a СНИЛС and with a new certificate, one of five kinds in
 * turn: a typo in the surname or first name (a letter replaced, left out or
 * two swapped), ё written е (or е written ё), the names in Latin letters (a
 * passport's transliteration: Мария → Mariya, Юлия → Yuliya, Фёдор → Fedor),
 * first and middle name swapped, or only the СНИЛС missing. Everything goes
 * through the store's write path (store_record_write, batches of 1 000).
 *
 * Then it searches (duplicates_find, floor DUP_FLOOR) the candidates of each
 * planted duplicate and of as many ordinary children picked at random, and
 * prints, per size: recall (the planted original found at or above the
 * threshold, and at or above the floor), precision at the threshold (of all
 * candidates at or above it, the share that are planted pairs), the records
 * the blocks held and were read and scored per query, the candidates
 * returned per query, and the time per query (mean, p50, p95; each query is
 * timed RUNS times and the fastest kept, as the machine is shared) — and the
 * ratio of the last size's time to the first's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/principal.h"
#include "core/utf8.h"
#include "model/names.h"
#include "service/duplicates.h"
#include "store/records.h"
#include "store/store.h"
#include "store/util.h"

#define BATCH        1000
#define PLANT_EVERY  100 /* one planted duplicate per this many children */
#define SCHOOL_SIZE  500
#define MAX_QUERIES  20000
#define DEFAULT_SEED 20260901u
#define RUNS         3 /* each query is timed this many times, the fastest kept */

static principal_t bench_principal = {.subject = "bench", .role = ROLE_ADMIN, .method = AUTH_TOKEN};

static const char *const common_surnames[] = {
    "Иванов",  "Смирнов",  "Кузнецов", "Попов",    "Васильев", "Петров",  "Соколов",  "Михайлов",
    "Новиков", "Фёдоров",  "Морозов",  "Волков",   "Алексеев", "Лебедев", "Семёнов",  "Егоров",
    "Павлов",  "Козлов",   "Степанов", "Николаев", "Орлов",    "Андреев", "Макаров",  "Никитин",
    "Захаров", "Зайцев",   "Соловьёв", "Борисов",  "Яковлев",  "Романов", "Сергеев",  "Кузьмин",
    "Фролов",  "Дмитриев", "Королёв",  "Гусев",    "Киселёв",  "Ильин",   "Максимов", "Поляков",
    "Сорокин", "Белов",    "Медведев", "Антонов",  "Тарасов",  "Жуков",   "Баранов",  "Комаров",
    "Гарипов", "Сафин",    "Галиев",   "Валиев",   "Шарипов",  "Закиров", "Ахметов",  "Хайруллин"};
static const char *const syllables[] = {
    "ба", "ве", "го", "да", "жу", "за",  "ки",  "ло",  "ма",  "не",  "по",  "ру", "са",
    "ти", "фе", "ха", "це", "чи", "ша",  "бу",  "ды",  "ле",  "мо",  "ну",  "пе", "ри",
    "со", "ту", "ля", "ню", "вя", "гри", "кра", "сто", "бро", "зве", "пле", "тро"};
static const char *const male_names[] = {
    "Александр", "Максим",  "Иван",       "Артём",   "Дмитрий", "Никита", "Михаил", "Даниил",
    "Егор",      "Андрей",  "Кирилл",     "Илья",    "Алексей", "Роман",  "Сергей", "Владимир",
    "Ярослав",   "Тимофей", "Арсений",    "Матвей",  "Фёдор",   "Пётр",   "Семён",  "Георгий",
    "Лев",       "Марк",    "Глеб",       "Тимур",   "Руслан",  "Артур",  "Данияр", "Ильдар",
    "Айдар",     "Булат",   "Константин", "Евгений", "Павел",   "Олег",   "Вадим",  "Юрий"};
static const char *const female_names[] = {
    "Анастасия", "Мария",   "Дарья",      "Анна",     "Елизавета", "Полина", "Виктория",
    "Екатерина", "Софья",   "Александра", "Ксения",   "Алёна",     "Арина",  "Вероника",
    "Варвара",   "Юлия",    "Алиса",      "Ульяна",   "Милана",    "Ева",    "Василиса",
    "Таисия",    "Яна",     "Злата",      "Кира",     "Маргарита", "Ольга",  "Татьяна",
    "Наталья",   "Евгения", "Диана",      "Алсу",     "Камила",    "Амина",  "Айгуль",
    "Лейла",     "Регина",  "Эльвира",    "Светлана", "Людмила"};
/* Fathers' names and their patronymics: stem + "ович"/"овна" (or as given). */
static const char *const fathers[][2] = {
    {"Петрович", "Петровна"},         {"Иванович", "Ивановна"},
    {"Сергеевич", "Сергеевна"},       {"Александрович", "Александровна"},
    {"Андреевич", "Андреевна"},       {"Дмитриевич", "Дмитриевна"},
    {"Алексеевич", "Алексеевна"},     {"Николаевич", "Николаевна"},
    {"Владимирович", "Владимировна"}, {"Михайлович", "Михайловна"},
    {"Юрьевич", "Юрьевна"},           {"Олегович", "Олеговна"},
    {"Викторович", "Викторовна"},     {"Евгеньевич", "Евгеньевна"},
    {"Павлович", "Павловна"},         {"Фёдорович", "Фёдоровна"},
    {"Рустамович", "Рустамовна"},     {"Ринатович", "Ринатовна"},
    {"Маратович", "Маратовна"},       {"Ильдарович", "Ильдаровна"}};
static const char *const places[] = {
    "г. Казань",       "г. Набережные Челны", "г. Альметьевск", "г. Нижнекамск",
    "г. Зеленодольск", "г. Бугульма",         "г. Елабуга",     "г. Лениногорск",
    "г. Чистополь",    "г. Москва",           "г. Уфа",         "г. Самара"};

#define COUNT(a) ((int)(sizeof(a) / sizeof(a)[0]))

/* --- a deterministic generator --------------------------------------------------------- */

static unsigned long long rng_state = DEFAULT_SEED;

static unsigned
rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

/* --- children ---------------------------------------------------------------------------- */

static int
year_of(const char *date)
{
    return (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 + (date[3] - '0');
}

typedef struct {
    char last[128], first[64], middle[64], birth[16], place[64];
    char sex;
    char snils[12], mother_snils[12], cert[8], org[14];
    int original; /* a planted duplicate: the index of its original; else -1 */
    char id[STUDENT_ID_LEN + 1];
} child_t;

static void
make_snils(long n, char out[12])
{
    char nine[32];
    int sum = 0, check;

    snprintf(nine, sizeof nine, "%09ld", 100000000L + n % 800000000L);
    for (int i = 0; i < 9; i++)
        sum += (nine[i] - '0') * (9 - i);
    check = sum < 100 ? sum : sum % 101;
    check = check >= 100 ? 0 : check;
    snprintf(out, 12, "%.9s%c%c", nine, '0' + check / 10, '0' + check % 10);
}

static void
make_surname(char *out, size_t size, char sex)
{
    if (rnd(3) == 0) {
        snprintf(out, size, "%s%s", common_surnames[rnd(COUNT(common_surnames))],
                 sex == 'F' ? "а" : "");
        return;
    }
    const char *a = syllables[rnd(COUNT(syllables))], *b = syllables[rnd(COUNT(syllables))];
    static const char *const ends[] = {"ов", "ев", "ин", "ских"};
    const char *end = ends[rnd(COUNT(ends))];
    char root[64];
    snprintf(root, sizeof root, "%s%s", a, b);
    /* The first letter as a capital: Cyrillic capitals are 0x20 below (two bytes). */
    unsigned char c0 = (unsigned char)root[0], c1 = (unsigned char)root[1];
    unsigned cp = ((c0 & 0x1fu) << 6) | (c1 & 0x3fu);
    cp = cp >= 0x0450 ? cp - 80 : cp - 32;
    root[0] = (char)(0xc0 | (cp >> 6));
    root[1] = (char)(0x80 | (cp & 0x3f));
    snprintf(out, size, "%s%s%s", root, end, sex == 'F' && strcmp(end, "ских") != 0 ? "а" : "");
}

static void
make_child(child_t *c, long n, const child_t *sibling, bool twin)
{
    memset(c, 0, sizeof *c);
    c->original = -1;
    c->sex = rnd(2) ? 'F' : 'M';
    const char *const *names = c->sex == 'F' ? female_names : male_names;
    snprintf(c->first, sizeof c->first, "%s", names[rnd(40)]);
    if (sibling != NULL) {
        snprintf(c->last, sizeof c->last, "%s", sibling->last);
        if (sibling->sex != c->sex) { /* Иванов ↔ Иванова */
            size_t len = strlen(c->last);
            if (c->sex == 'F')
                snprintf(c->last + len, sizeof c->last - len, "а");
            else if (len > 2 && strcmp(c->last + len - 2, "а") == 0)
                c->last[len - 2] = '\0';
        }
        int f = 0;
        for (; f < COUNT(fathers); f++)
            if (strcmp(sibling->middle, fathers[f][sibling->sex == 'F']) == 0)
                break;
        snprintf(c->middle, sizeof c->middle, "%s", fathers[f % COUNT(fathers)][c->sex == 'F']);
        snprintf(c->mother_snils, sizeof c->mother_snils, "%s", sibling->mother_snils);
        snprintf(c->place, sizeof c->place, "%s", sibling->place);
        if (twin) {
            memcpy(c->birth, sibling->birth, sizeof c->birth);
            while (strcmp(c->first, sibling->first) == 0)
                snprintf(c->first, sizeof c->first, "%s", names[rnd(40)]);
        } else {
            int year = year_of(sibling->birth);
            snprintf(c->birth, sizeof c->birth, "%04d-%02u-%02u",
                     year < 2014 ? year + 1 + (int)rnd(5) : year - 1 - (int)rnd(5), 1 + rnd(12),
                     1 + rnd(28));
        }
    } else {
        make_surname(c->last, sizeof c->last, c->sex);
        snprintf(c->middle, sizeof c->middle, "%s", fathers[rnd(COUNT(fathers))][c->sex == 'F']);
        snprintf(c->birth, sizeof c->birth, "%04u-%02u-%02u", 2008 + rnd(12), 1 + rnd(12),
                 1 + rnd(28));
        snprintf(c->place, sizeof c->place, "%s", places[rnd(COUNT(places))]);
        if (rnd(10) < 8)
            make_snils(50000000L + n, c->mother_snils);
    }
    if (rnd(10) < 9)
        make_snils(n, c->snils);
    snprintf(c->cert, sizeof c->cert, "%06ld", n % 1000000);
}

/* --- planted duplicates ------------------------------------------------------------------ */

enum { KIND_TYPO, KIND_YO, KIND_LATIN, KIND_SWAPPED, KIND_NO_SNILS, KINDS };
static const char *const kind_names[KINDS] = {"typo", "ё/е", "Latin", "first/middle swapped",
                                              "no СНИЛС"};

static size_t
decode_all(const char *s, uint32_t *cps, size_t max)
{
    size_t len = strlen(s), n = 0;

    for (size_t i = 0; i < len && n < max;) {
        size_t k = utf8_decode(s + i, len - i, &cps[n]);
        if (k == 0)
            break;
        i += k;
        n++;
    }
    return n;
}

/* Code points below 0x800 (the names here: ASCII and Cyrillic) as UTF-8. */
static void
encode_all(const uint32_t *cps, size_t n, char *out, size_t size)
{
    size_t at = 0;

    for (size_t i = 0; i < n && at + 3 < size; i++) {
        uint32_t cp = cps[i];
        if (cp < 0x80) {
            out[at++] = (char)cp;
        } else {
            out[at++] = (char)(0xc0 | (cp >> 6));
            out[at++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    out[at] = '\0';
}

/* One typo past the first letter: a letter replaced, left out, or two swapped. */
static void
typo(char *name, size_t size)
{
    uint32_t cps[128], t;
    size_t n = decode_all(name, cps, 128), i;

    if (n < 3)
        return;
    i = 1 + rnd((unsigned)(n - 2));
    switch (rnd(3)) {
    case 0:
        t = 0x0430 + rnd(32);
        cps[i] = t == cps[i] ? 0x043E : t;
        break;
    case 1:
        memmove(cps + i, cps + i + 1, (n - i - 1) * sizeof *cps);
        n--;
        break;
    default:
        t = cps[i];
        cps[i] = cps[i + 1];
        cps[i + 1] = t;
    }
    encode_all(cps, n, name, size);
}

/* The first е as ё, or the first ё as е (either case); false when the name
 * has neither. */
static bool
yo(char *name, size_t size)
{
    uint32_t cps[128];
    size_t n = decode_all(name, cps, 128);

    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        uint32_t swapped = c == 0x0435   ? 0x0451
                           : c == 0x0451 ? 0x0435
                           : c == 0x0415 ? 0x0401
                           : c == 0x0401 ? 0x0415
                                         : 0;
        if (swapped != 0) {
            cps[i] = swapped;
            encode_all(cps, n, name, size);
            return true;
        }
    }
    return false;
}

/* A passport's transliteration (the one of 1997: я ya, ю yu, й y, х kh). */
static void
latin(char *name, size_t size)
{
    static const char *const lower[32] = {
        "a", "b", "v", "g", "d", "e",  "zh", "z",  "i",  "y",    "k", "l", "m", "n", "o",  "p",
        "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "",  "y", "",  "e", "yu", "ya"};
    uint32_t cps[128];
    size_t n = decode_all(name, cps, 128), at = 0;
    char out[512];

    for (size_t i = 0; i < n; i++) {
        uint32_t cp = cps[i];
        bool upper = (cp >= 0x0410 && cp <= 0x042F) || cp == 0x0401;
        const char *l = cp == 0x0451 || cp == 0x0401   ? "e"
                        : cp >= 0x0410 && cp <= 0x042F ? lower[cp - 0x0410]
                        : cp >= 0x0430 && cp <= 0x044F ? lower[cp - 0x0430]
                                                       : "";
        for (size_t k = 0; l[k] != '\0' && at + 1 < sizeof out; k++)
            out[at++] = (char)(upper && k == 0 ? l[k] - 32 : l[k]);
    }
    out[at] = '\0';
    if (at >= size) /* the caller's buffer is smaller than the Latin form: cut it */
        out[size - 1] = '\0';
    memcpy(name, out, strlen(out) + 1);
}

/* The duplicate d of child o (index oi), planted as kind. */
static void
plant(child_t *d, const child_t *o, int oi, int kind, long n, const char *other_org)
{
    *d = *o;
    d->original = oi;
    d->id[0] = '\0';
    d->snils[0] = '\0';
    snprintf(d->org, sizeof d->org, "%s", other_org);
    snprintf(d->cert, sizeof d->cert, "%06ld", (500000 + n) % 1000000);
    if (rnd(2))
        d->mother_snils[0] = '\0';
    switch (kind) {
    case KIND_TYPO:
        if (rnd(2))
            typo(d->last, sizeof d->last);
        else
            typo(d->first, sizeof d->first);
        break;
    case KIND_YO:
        if (!yo(d->last, sizeof d->last) && !yo(d->first, sizeof d->first))
            yo(d->middle, sizeof d->middle);
        break;
    case KIND_LATIN:
        latin(d->last, sizeof d->last);
        latin(d->first, sizeof d->first);
        latin(d->middle, sizeof d->middle);
        break;
    case KIND_SWAPPED:
        snprintf(d->first, sizeof d->first, "%s", o->middle);
        snprintf(d->middle, sizeof d->middle, "%s", o->first);
        break;
    default: /* KIND_NO_SNILS: nothing more */
        break;
    }
}

/* --- the store -------------------------------------------------------------------------- */

static void
child_doc(const child_t *c, bson_t *doc)
{
    bson_t arr, one;
    char sex[2] = {c->sex, '\0'};

    bson_init(doc);
    BSON_APPEND_UTF8(doc, "last_name", c->last);
    BSON_APPEND_UTF8(doc, "first_name", c->first);
    BSON_APPEND_UTF8(doc, "middle_name", c->middle);
    BSON_APPEND_UTF8(doc, "sex", sex);
    BSON_APPEND_UTF8(doc, "birth_date", c->birth);
    BSON_APPEND_UTF8(doc, "birth_place", c->place);
    if (c->snils[0])
        BSON_APPEND_UTF8(doc, "snils", c->snils);
    BSON_APPEND_ARRAY_BEGIN(doc, "documents", &arr);
    BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &one);
    BSON_APPEND_UTF8(&one, "type", "BIRTH_CERT_RF");
    BSON_APPEND_UTF8(&one, "series", "IV-КБ");
    BSON_APPEND_UTF8(&one, "number", c->cert);
    bson_append_document_end(&arr, &one);
    bson_append_array_end(doc, &arr);
    if (c->mother_snils[0]) {
        BSON_APPEND_ARRAY_BEGIN(doc, "representatives", &arr);
        BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &one);
        BSON_APPEND_UTF8(&one, "kind", "MOTHER");
        BSON_APPEND_UTF8(&one, "last_name", c->last);
        BSON_APPEND_UTF8(&one, "first_name", "Анна");
        BSON_APPEND_UTF8(&one, "snils", c->mother_snils);
        bson_append_document_end(&arr, &one);
        bson_append_array_end(doc, &arr);
    }
    BSON_APPEND_UTF8(doc, "organization", c->org);
}

static bool
write_child(store_conn_t *conn, child_t *c)
{
    write_meta_t meta = {.principal = &bench_principal, .request_id = "bench-duplicates"};
    write_result_t out;
    kt_error_t err;
    bson_t doc;
    bool ok;

    kt_error_clear(&err);
    child_doc(c, &doc);
    ok = store_student_write(conn, WRITE_CREATE, NULL, 0, &doc, &meta, &out, &err);
    bson_destroy(&doc);
    if (!ok) {
        fprintf(stderr, "write: %s\n", err.message);
        return false;
    }
    memcpy(c->id, out.id, sizeof c->id);
    return true;
}

static void
school_of(long n, char out[14])
{
    char digits[32];

    snprintf(digits, sizeof digits, "10216%08ld", 1000 + n / SCHOOL_SIZE);
    snprintf(out, 14, "%.13s", digits);
}

/* The population of size children, the planted duplicates among them (the
 * same children for every size: a size's population begins with the
 * smaller one's). */
static child_t *
generate(long size)
{
    child_t *kids = calloc((size_t)size, sizeof *kids);
    long plants = 0;

    rng_state = DEFAULT_SEED;
    for (long n = 0; kids != NULL && n < size; n++) {
        if (n % PLANT_EVERY == PLANT_EVERY - 1) { /* an original of the last hundred */
            long oi = n - 1 - (long)rnd(PLANT_EVERY - 1);
            char other[14];
            while (kids[oi].original >= 0)
                oi--;
            school_of(n + SCHOOL_SIZE * 7, other);
            plant(&kids[n], &kids[oi], (int)oi, (int)(plants++ % KINDS), n, other);
            continue;
        }
        long sib = n > 0 && rnd(20) == 0 ? n - 1 - (long)rnd((unsigned)(n < 50 ? n : 50)) : -1;
        if (sib >= 0 && kids[sib].original >= 0)
            sib = -1;
        make_child(&kids[n], n, sib >= 0 ? &kids[sib] : NULL, sib >= 0 && rnd(10) == 0);
        school_of(n, kids[n].org);
    }
    return kids;
}

static bool
seed(store_conn_t *conn, child_t *kids, long from, long to)
{
    kt_error_t err;
    bool ok = true;

    kt_error_clear(&err);
    for (long i = from; ok && i < to; i += BATCH) {
        ok = store_batch_begin(conn, &err);
        for (long j = i; ok && j < i + BATCH && j < to; j++)
            ok = write_child(conn, &kids[j]);
        ok = store_batch_end(conn, ok, &err) && ok;
    }
    if (!ok && err.message[0])
        fprintf(stderr, "seed: %s\n", err.message);
    return ok;
}

/* --- the searches ------------------------------------------------------------------------- */

typedef struct {
    long queries, planted, found_threshold, found_floor;
    long above, true_above; /* candidates at or above the threshold; of them, planted pairs */
    long scored;            /* candidates at or above the floor returned */
    long read;              /* records the blocks held, read and scored */
    long by_kind[KINDS], found_by_kind[KINDS];
    double *ms;
} stats_t;

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Whether the student id is child q's planted counterpart (its original, or
 * its planted duplicate). */
static bool
is_pair(const child_t *kids, long q, const char *id, const long *dup_of)
{
    const child_t *c = &kids[q];

    if (c->original >= 0)
        return strcmp(kids[c->original].id, id) == 0;
    return dup_of[q] >= 0 && strcmp(kids[dup_of[q]].id, id) == 0;
}

/* BENCH_DUP_MISSES: a planted duplicate not found at the threshold, on stderr. */
static void
print_miss(const child_t *d, const child_t *o, const dup_candidate_t *found, int n)
{
    int score = -1;

    for (int i = 0; i < n; i++)
        if (strcmp(found[i].id, o->id) == 0)
            score = found[i].score;
    fprintf(stderr, "missed: %s %s %s %s | %s %s %s %s | score %d\n", d->last, d->first, d->middle,
            d->birth, o->last, o->first, o->middle, o->birth, score);
}

static bool
query(store_conn_t *conn, const child_t *kids, long q, const long *dup_of, stats_t *st)
{
    dup_candidate_t found[DUP_CANDIDATES_MAX];
    kt_error_t err;
    bson_t doc;
    int n = 0, read = 0;
    double best = 0;
    bool ok = true, hit_t = false, hit_f = false;

    kt_error_clear(&err);
    child_doc(&kids[q], &doc);
    for (int run = 0; ok && run < RUNS; run++) { /* the best of RUNS: the machine is shared */
        double t0 = now_ms(), ms;
        ok = duplicates_find(conn, DUP_SCOPE_ALL, kids[q].id, &doc, DUP_FLOOR, found,
                             DUP_CANDIDATES_MAX, &n, &read, &err);
        ms = now_ms() - t0;
        best = run == 0 || ms < best ? ms : best;
    }
    st->ms[st->queries++] = best;
    st->read += read;
    bson_destroy(&doc);
    if (!ok) {
        fprintf(stderr, "search: %s\n", err.message);
        return false;
    }
    st->scored += n;
    for (int i = 0; i < n; i++) {
        bool pair = is_pair(kids, q, found[i].id, dup_of);
        hit_f = hit_f || pair;
        if (found[i].score >= DUP_THRESHOLD) {
            st->above++;
            st->true_above += pair;
            hit_t = hit_t || pair;
        }
    }
    if (kids[q].original >= 0 && !hit_t && getenv("BENCH_DUP_MISSES") != NULL)
        print_miss(&kids[q], &kids[kids[q].original], found, n);
    if (kids[q].original >= 0) {
        int kind = (int)((q / PLANT_EVERY) % KINDS); /* generate()'s turn */
        st->planted++;
        st->found_threshold += hit_t;
        st->found_floor += hit_f;
        st->by_kind[kind]++;
        st->found_by_kind[kind] += hit_t;
    }
    return true;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    long size, planted, queries;
    double seed_s, mean, p50, p95, recall_t, recall_f, precision, per_query, read_per_query;
    double recall_kind[KINDS];
} row_t;

static void
summarise(stats_t *st, row_t *row)
{
    double sum = 0;

    for (long i = 0; i < st->queries; i++)
        sum += st->ms[i];
    qsort(st->ms, (size_t)st->queries, sizeof *st->ms, cmp_double);
    row->queries = st->queries;
    row->mean = sum / (double)st->queries;
    row->p50 = st->ms[st->queries / 2];
    row->p95 = st->ms[st->queries * 95 / 100];
    row->planted = st->planted;
    row->recall_t = st->planted ? (double)st->found_threshold / (double)st->planted : 0;
    row->recall_f = st->planted ? (double)st->found_floor / (double)st->planted : 0;
    row->precision = st->above ? (double)st->true_above / (double)st->above : 1;
    row->per_query = (double)st->scored / (double)st->queries;
    row->read_per_query = (double)st->read / (double)st->queries;
    for (int k = 0; k < KINDS; k++)
        row->recall_kind[k] =
            st->by_kind[k] ? (double)st->found_by_kind[k] / (double)st->by_kind[k] : 0;
}

/* The planted duplicates' searches, then as many of ordinary children
 * picked at random. */
static bool
measure(store_conn_t *conn, const child_t *kids, long size, row_t *row)
{
    long *dup_of = malloc((size_t)size * sizeof *dup_of), sample = 0;
    stats_t st;
    bool ok;

    memset(&st, 0, sizeof st);
    st.ms = calloc(MAX_QUERIES, sizeof *st.ms);
    ok = dup_of != NULL && st.ms != NULL;
    for (long i = 0; ok && i < size; i++)
        dup_of[i] = -1;
    for (long i = 0; ok && i < size; i++)
        if (kids[i].original >= 0)
            dup_of[kids[i].original] = i;
    for (long i = 0; ok && i < size && st.queries < MAX_QUERIES / 2; i++)
        if (kids[i].original >= 0)
            ok = query(conn, kids, i, dup_of, &st);
    rng_state = DEFAULT_SEED + 1;
    while (ok && sample < st.planted && st.queries < MAX_QUERIES) {
        long i = (long)rnd((unsigned)size);
        if (kids[i].original < 0) {
            ok = query(conn, kids, i, dup_of, &st);
            sample++;
        }
    }
    if (ok && st.queries > 0)
        summarise(&st, row);
    free(st.ms);
    free(dup_of);
    return ok && st.queries > 0;
}

/* --- main ------------------------------------------------------------------------------------ */

/* A previous run's store file and its WAL: each run starts empty. */
static void
remove_files(const char *path)
{
    char side[1100];

    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

static store_t *
open_store(const char *dir, long size)
{
    static char path[1024], db[128];
    store_options_t opts = {.backend = STORE_SQLITE};
    const char *backend = getenv("KT_STORE");
    kt_error_t err;
    store_t *store;

    kt_error_clear(&err);
    if (backend != NULL && strcmp(backend, "mongodb") == 0) {
        snprintf(db, sizeof db, "%s-%ld", getenv("KT_DB") ? getenv("KT_DB") : "bench_dup", size);
        opts = (store_options_t){
            .backend = STORE_MONGODB, .mongodb_uri = getenv("MONGODB_URI"), .db_name = db};
    } else {
        snprintf(path, sizeof path, "%s/dup-%ld.sqlite", dir, size);
        remove_files(path);
        opts.sqlite_path = path;
    }
    store = store_new(&opts, &err);
    if (store == NULL)
        fprintf(stderr, "store: %s\n", err.message);
    return store;
}

static bool
run_size(const char *dir, long size, const child_t *all, row_t *row)
{
    store_t *store = open_store(dir, size);
    child_t *kids = malloc((size_t)size * sizeof *kids);
    store_conn_t *conn = NULL;
    kt_error_t err;
    double t0;
    bool ok = store != NULL && kids != NULL;

    kt_error_clear(&err);
    if (ok) {
        memcpy(kids, all, (size_t)size * sizeof *kids);
        conn = store_conn_pop(store, STORE_POOL_BATCH);
        ok = store_prepare(conn, &err);
    }
    t0 = now_ms();
    ok = ok && seed(conn, kids, 0, size);
    row->size = size;
    row->seed_s = (now_ms() - t0) / 1e3;
    fprintf(stderr, "seeded %ld children in %.1f s\n", size, row->seed_s);
    ok = ok && measure(conn, kids, size, row);
    if (conn != NULL)
        store_conn_push(conn);
    if (store != NULL)
        store_free(store);
    free(kids);
    return ok;
}

static void
print_rows(const row_t *rows, int n)
{
    printf(
        "\nprobable duplicates: candidate search (floor %d, threshold %d, blocks of at most %d)\n",
        DUP_FLOOR, DUP_THRESHOLD, DUP_BLOCK_MAX);
    printf("%10s %8s %8s %10s %10s %12s %10s %11s %9s %9s %9s %9s\n", "students", "planted",
           "queries", "recall@70", "recall@50", "precision@70", "read/query", "cands/query",
           "mean ms", "p50 ms", "p95 ms", "seed s");
    for (int i = 0; i < n; i++)
        printf("%10ld %8ld %8ld %10.3f %10.3f %12.3f %10.2f %11.2f %9.3f %9.3f %9.3f %9.1f\n",
               rows[i].size, rows[i].planted, rows[i].queries, rows[i].recall_t, rows[i].recall_f,
               rows[i].precision, rows[i].read_per_query, rows[i].per_query, rows[i].mean,
               rows[i].p50, rows[i].p95, rows[i].seed_s);
    printf("\nrecall@70 by planted kind:");
    for (int k = 0; k < KINDS; k++)
        printf("  %s %.3f", kind_names[k], rows[n - 1].recall_kind[k]);
    printf("\n");
    if (n > 1)
        printf("time per query, %ld vs %ld students: mean %.2fx, p50 %.2fx\n", rows[n - 1].size,
               rows[0].size, rows[n - 1].mean / rows[0].mean, rows[n - 1].p50 / rows[0].p50);
}

int
main(int argc, char **argv)
{
    row_t rows[8];
    long sizes[8], max = 0;
    int n = 0;
    child_t *all;

    for (int i = 2; i < argc && n < 8; i++) {
        char *end = NULL;
        sizes[n] = strtol(argv[i], &end, 10);
        if (end == argv[i] || *end != '\0' || sizes[n] < PLANT_EVERY || sizes[n] <= max) {
            fprintf(stderr, "usage: bench_duplicates DIR SIZE... (ascending, ≥ %d)\n", PLANT_EVERY);
            return 2;
        }
        max = sizes[n++];
    }
    if (argc < 3 || n == 0) {
        fprintf(stderr, "usage: bench_duplicates DIR SIZE...\n");
        return 2;
    }
    all = generate(max);
    if (all == NULL)
        return 1;
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < n; i++)
        if (!run_size(argv[1], sizes[i], all, &rows[i])) {
            free(all);
            return 1;
        }
    print_rows(rows, n);
    free(all);
    return 0;
}
