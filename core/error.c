/* error: codes, their names, statuses and titles in one table. */
#include "core/error.h"

#include "core/arena.h"
#include "core/msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int status;
    const char *title_ru;
    const char *title_en;
} code_info_t;

static const code_info_t code_table[KT_CODE__MAX] = {
    [KT_OK] = {"OK", 200, "Успешно", "OK"},
    [KT_REQUIRED] = {"REQUIRED", 422, "Не заполнено обязательное поле",
                     "A mandatory field is missing"},
    [KT_FORMAT] = {"FORMAT", 422, "Неверный формат", "Wrong format"},
    [KT_UNKNOWN_FIELD] = {"UNKNOWN_FIELD", 422, "Неизвестное поле", "Unknown field"},
    [KT_ENUM] = {"ENUM", 422, "Значение не из списка", "Value outside its list"},
    [KT_DATE_RANGE] = {"DATE_RANGE", 422, "Дата вне допустимого диапазона", "Date out of range"},
    [KT_DATE_ORDER] = {"DATE_ORDER", 422, "Нарушен порядок дат", "Dates out of order"},
    [KT_SNILS_CHECKSUM] = {"SNILS_CHECKSUM", 422, "Неверная контрольная сумма СНИЛС",
                           "SNILS check digits do not match"},
    [KT_OGRN_CHECKSUM] = {"OGRN_CHECKSUM", 422, "Неверное контрольное число ОГРН",
                          "OGRN check digit does not match"},
    [KT_INN_CHECKSUM] = {"INN_CHECKSUM", 422, "Неверное контрольное число ИНН",
                         "INN check digits do not match"},
    [KT_DUPLICATE_SNILS] = {"DUPLICATE_SNILS", 409, "Обучающийся с таким СНИЛС уже есть",
                            "Another student holds this SNILS"},
    [KT_DUPLICATE_DOCUMENT] = {"DUPLICATE_DOCUMENT", 409, "Обучающийся с таким документом уже есть",
                               "Another student holds this document"},
    [KT_DUPLICATE_OGRN] = {"DUPLICATE_OGRN", 409, "Организация с таким ОГРН уже есть",
                           "An organisation with this OGRN exists"},
    [KT_REF_NOT_FOUND] = {"REF_NOT_FOUND", 422, "Ссылка на несуществующую или недействующую запись",
                          "The reference names no active record"},
    [KT_IDENTITY_CONFLICT] = {"IDENTITY_CONFLICT", 409,
                              "Найденная запись принадлежит другому человеку",
                              "The matched record is another person's"},
    [KT_MERGED] = {"MERGED", 301, "Запись объединена с другой",
                   "The record was merged into another"},
    [KT_MERGE_CONFLICT] = {"MERGE_CONFLICT", 422,
                           "Не указано, какое из различающихся значений сохранить",
                           "Fields differ and the request does not say which side wins"},
    [KT_MERGE_SELF] = {"MERGE_SELF", 422, "Запись нельзя объединить с самой собой",
                       "A record cannot be merged into itself"},
    [KT_MERGE_STATE] = {"MERGE_STATE", 409, "Запись удалена или уже объединена",
                        "A record of the pair is deleted or merged already"},
    [KT_ALREADY_MERGED] = {"ALREADY_MERGED", 409, "Записи уже объединены",
                           "The records are merged already"},
    [KT_NOT_MERGED] = {"NOT_MERGED", 409, "Записи не объединены", "The records are not merged"},
    [KT_UNMERGE_CONFLICT] = {"UNMERGE_CONFLICT", 409,
                             "Изменения после объединения затрагивают объединённые поля",
                             "Changes since the merge touch the merged fields"},
    [KT_VERSION_CONFLICT] = {"VERSION_CONFLICT", 412, "Версия устарела",
                             "The version is not the current one"},
    [KT_NOT_FOUND] = {"NOT_FOUND", 404, "Не найдено", "Not found"},
    [KT_GONE] = {"GONE", 410, "Запись удалена", "The record was deleted"},
    [KT_FORBIDDEN] = {"FORBIDDEN", 403, "Доступ запрещён", "Forbidden"},
    [KT_UNAUTHENTICATED] = {"UNAUTHENTICATED", 401, "Требуется аутентификация",
                            "Authentication required"},
    [KT_PAYLOAD_TOO_LARGE] = {"PAYLOAD_TOO_LARGE", 413, "Слишком большой запрос",
                              "Payload too large"},
    [KT_UNSUPPORTED_MEDIA_TYPE] = {"UNSUPPORTED_MEDIA_TYPE", 415,
                                   "Неподдерживаемый тип содержимого", "Unsupported media type"},
    [KT_MALFORMED] = {"MALFORMED", 400, "Некорректный запрос", "Malformed request"},
    [KT_DUPLICATE_PACKET] = {"DUPLICATE_PACKET", 409, "Пакет с таким идентификатором уже получен",
                             "A packet with this id was received with other content"},
    [KT_XSD] = {"XSD", 422, "Нарушена XML-схема", "The package violates the schema"},
    [KT_EPISODE_OPEN] = {"EPISODE_OPEN", 422, "Уже есть открытый эпизод основного образования",
                         "A main-education episode is already open"},
    [KT_NO_OPEN_EPISODE] = {"NO_OPEN_EPISODE", 422, "Нет открытого эпизода обучения",
                            "No open education episode"},
    [KT_EPISODE_STATE] = {"EPISODE_STATE", 422, "Событие недопустимо в текущем состоянии эпизода",
                          "The event does not fit the episode's state"},
    [KT_READ_ONLY] = {"READ_ONLY", 422, "Поле меняется только событиями",
                      "The field is changed only by events"},
    [KT_METHOD_NOT_ALLOWED] = {"METHOD_NOT_ALLOWED", 405, "Метод не поддерживается",
                               "Method not allowed"},
    [KT_NOT_ACCEPTABLE] = {"NOT_ACCEPTABLE", 406, "Неприемлемый формат ответа", "Not acceptable"},
    [KT_PRECONDITION_REQUIRED] = {"PRECONDITION_REQUIRED", 428, "Требуется заголовок If-Match",
                                  "If-Match is required"},
    [KT_VALIDATION] = {"VALIDATION", 422, "Ошибки в данных", "Validation failed"},
    [KT_STORE_UNAVAILABLE] = {"STORE_UNAVAILABLE", 503, "Хранилище недоступно",
                              "The store is unavailable"},
    [KT_UNAVAILABLE] = {"UNAVAILABLE", 503, "Сервис временно недоступен",
                        "The service is temporarily unavailable"},
    [KT_KEY_UNAVAILABLE] = {"KEY_UNAVAILABLE", 503, "Ключ шифрования медицинских данных недоступен",
                            "The health data encryption key is unavailable"},
    [KT_INTEGRITY] = {"INTEGRITY", 500, "Зашифрованные медицинские данные повреждены",
                      "The encrypted health data does not authenticate"},
    [KT_FEED_EPOCH_CHANGED] = {"FEED_EPOCH_CHANGED", 410,
                               "Реестр восстановлен из резервной копии: синхронизируйтесь заново",
                               "The registry was restored from a backup: resynchronise"},
    [KT_INTERNAL] = {"INTERNAL", 500, "Внутренняя ошибка", "Internal error"},
};

static const code_info_t *
code_info(kt_code_t code)
{
    if ((int)code < 0 || code >= KT_CODE__MAX || code_table[code].name == NULL)
        return &code_table[KT_INTERNAL];
    return &code_table[code];
}

static void
error_setv(kt_error_t *err, kt_domain_t domain, kt_code_t code, int status, const char *fmt,
           va_list ap)
{
    err->domain = domain;
    err->code = code;
    err->status = status;
    err->fields = NULL;
    err->nfields = 0;
    err->ref[0] = '\0';
    kt_msg_vformat_ru(err->message_ru, sizeof err->message_ru, fmt, ap);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

void
kt_error_set(kt_error_t *err, kt_domain_t domain, kt_code_t code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    error_setv(err, domain, code, code_info(code)->status, fmt, ap);
    va_end(ap);
}

void
kt_error_set_status(kt_error_t *err, kt_domain_t domain, kt_code_t code, int status,
                    const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    error_setv(err, domain, code, status ? status : code_info(code)->status, fmt, ap);
    va_end(ap);
}

void
kt_error_restatus(kt_error_t *err, int status)
{
    if (err != NULL && err->code != KT_OK)
        err->status = status;
}

void
kt_error_clear(kt_error_t *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

const char *
kt_code_name(kt_code_t code)
{
    return code_info(code)->name;
}

int
kt_code_status(kt_code_t code)
{
    return code_info(code)->status;
}

const char *
kt_code_title(kt_code_t code, bool en)
{
    return en ? code_info(code)->title_en : code_info(code)->title_ru;
}

const char *
kt_error_message(const kt_error_t *err, bool en)
{
    return en || err->message_ru[0] == '\0' ? err->message : err->message_ru;
}

void
kt_error_wrap(kt_error_t *err, kt_domain_t domain, kt_code_t code, const kt_error_t *inner,
              const char *fmt, ...)
{
    kt_error_t copy = *inner; /* inner may be err itself */
    size_t n;
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    error_setv(err, domain, code, code_info(code)->status, fmt, ap);
    va_end(ap);
    n = strlen(err->message);
    snprintf(err->message + n, sizeof err->message - n, "%s", kt_error_message(&copy, true));
    n = strlen(err->message_ru);
    snprintf(err->message_ru + n, sizeof err->message_ru - n, "%s", kt_error_message(&copy, false));
}

const char *
kt_field_message(const kt_field_error_t *f, bool en)
{
    if (f->message == NULL)
        return kt_code_title(f->code, en);
    return en || f->message_ru == NULL ? f->message : f->message_ru;
}

bool
kt_error_add_field(kt_error_t *err, struct arena *arena, const char *pointer, kt_code_t code,
                   const char *message)
{
    return kt_error_add_field2(err, arena, pointer, code, message, kt_msg(message, false));
}

bool
kt_error_add_fieldf(kt_error_t *err, struct arena *arena, const char *pointer, kt_code_t code,
                    const char *fmt, ...)
{
    char en[KT_ERROR_MESSAGE_MAX], ru[KT_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    kt_msg_vformat_ru(ru, sizeof ru, fmt, ap);
    va_end(ap);
    va_start(ap, fmt);
    vsnprintf(en, sizeof en, fmt, ap);
    va_end(ap);
    return kt_error_add_field2(err, arena, pointer, code, en, ru);
}

bool
kt_error_add_field2(kt_error_t *err, struct arena *arena, const char *pointer, kt_code_t code,
                    const char *en, const char *ru)
{
    kt_field_error_t *f = arena_calloc(arena, 1, sizeof *f);
    kt_field_error_t **tail = &err->fields;

    if (f == NULL)
        return false;
    f->pointer = arena_strdup(arena, pointer);
    f->code = code;
    f->message = en ? arena_strdup(arena, en) : NULL;
    f->message_ru = en ? arena_strdup(arena, ru != NULL ? ru : en) : NULL;
    if (f->pointer == NULL || (en != NULL && (f->message == NULL || f->message_ru == NULL)))
        return false;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = f;
    err->nfields++;
    return true;
}
