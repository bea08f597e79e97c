// labels: the Russian names of fields, and of codes (from codes.js, the copy of
// the server's catalogue), and how values and times read on screen.

import { CODES } from './codes.js';

// The Russian title of every member of the model (model/*.c field tables).
export const FIELDS = {
  id: 'Идентификатор', version: 'Версия', state: 'Состояние',
  last_name: 'Фамилия', first_name: 'Имя', middle_name: 'Отчество', sex: 'Пол',
  birth_date: 'Дата рождения', birth_place: 'Место рождения', snils: 'СНИЛС',
  citizenship: 'Гражданство', category: 'Категория', countries: 'Страны (ОКСМ)',
  documents: 'Документы', document: 'Документ', type: 'Вид', series: 'Серия', number: 'Номер',
  issuer: 'Кем выдан', issued_on: 'Дата выдачи',
  addresses: 'Адреса', kind: 'Вид', text: 'Адрес', region_code: 'Код региона',
  oktmo: 'ОКТМО', fias_guid: 'ФИАС',
  representatives: 'Законные представители', phone: 'Телефон', email: 'Эл. почта',
  organization: 'Организация (ОГРН)', health: 'Сведения о здоровье',
  education: 'Обучение', episode: 'Эпизод', level: 'Уровень', program: 'Программа',
  name: 'Наименование', code: 'Код', adapted: 'Адаптированная', form: 'Форма обучения',
  financing: 'Финансирование', grade: 'Класс', class_letter: 'Буква класса',
  enrolled_on: 'Дата зачисления', enroll_order: 'Приказ о зачислении', status: 'Статус',
  ended_on: 'Дата окончания', end_reason: 'Причина окончания', end_order: 'Приказ об окончании',
  transfer_to: 'Переведён в (ОГРН)', to_organization: 'В организацию (ОГРН)', events: 'События',
  date: 'Дата', order: 'Приказ', reason: 'Причина', note: 'Примечание',
  health_group: 'Группа здоровья', pe_group: 'Группа по физкультуре', disability: 'Инвалидность',
  group: 'Группа', from: 'С', until: 'По', ovz: 'ОВЗ', pmpk_conclusion_no: 'Заключение ПМПК (№)',
  recommended_program: 'Рекомендованная программа', needs_adapted_program: 'Нужна адаптированная программа',
  long_term_treatment: 'Длительное лечение', needed: 'Требуется', training_form: 'Форма обучения при лечении',
  legal_basis: 'Основание обработки', consent_ref: 'Реквизиты согласия', law_ref: 'Норма закона',
  achievements: 'Достижения', event_name: 'Мероприятие', organizer: 'Организатор', result: 'Результат',
  place: 'Место', badge: 'Знак отличия', url: 'Ссылка', exams: 'Экзамены и отметки', subject: 'Предмет',
  subject_code: 'Код предмета', year: 'Год', score: 'Балл', mark: 'Отметка', passed: 'Сдан',
  certificates: 'Документы об образовании', with_honors: 'С отличием', title: 'Название',
  ogrn: 'ОГРН', inn: 'ИНН', kpp: 'КПП', full_name: 'Полное наименование', short_name: 'Краткое наименование',
  head_name: 'Руководитель', site: 'Сайт', license: 'Лицензия', parent: 'Головная организация',
  student_id: 'Обучающийся (идентификатор)', scheme: 'Схема аттестации', marks: 'Отметки',
  period: 'Период', absences: 'Пропуски', days: 'Дней пропущено', lessons: 'Уроков пропущено',
  days_illness: 'Дней по болезни', lessons_illness: 'Уроков по болезни',
};

// Which code list names a member's values: by "parent.key" first, then by key
// (the parent is the nearest named member; array indices are skipped).
const LISTS = {
  sex: 'sex', 'citizenship.category': 'citizenship', 'documents.type': 'document_type',
  'addresses.kind': 'address_kind', 'representatives.kind': 'representative_kind',
  'education.status': 'episode_status', 'education.end_reason': 'event_type', level: 'level',
  form: 'form', financing: 'financing', 'events.type': 'event_type', state: 'record_state',
  health_group: 'health_group', pe_group: 'pe_group', 'disability.group': 'disability',
  'disability.reason': 'disability_reason', training_form: 'training_form',
  'legal_basis.kind': 'legal_basis', 'achievements.kind': 'achievement_kind',
  'achievements.level': 'achievement_level', 'achievements.result': 'achievement_result',
  badge: 'badge', 'exams.kind': 'exam_kind', 'certificates.type': 'certificate_type',
  scheme: 'progress_scheme', period: 'progress_period', 'marks.mark': 'progress_mark',
  'marks.reason': 'progress_reason',
};

export const DOCUMENT_TYPES = Object.fromEntries(
  Object.entries(CODES.document_type).map(([code, [ru]]) => [code, ru]));

// The named members of a pointer or key: "/education/0/events/1/type" → ["education", "events", "type"].
function members(pointerOrKey) {
  const parts = pointerOrKey.startsWith('/') ? pointerOrKey.split('/').slice(1) : [pointerOrKey];
  return parts.map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).filter((p) => p && !/^\d+$/.test(p));
}

// The code list of a member, or undefined.
export function listOf(pointerOrKey) {
  const m = members(pointerOrKey || '');
  const key = m[m.length - 1];
  const parent = m[m.length - 2];
  return LISTS[`${parent}.${key}`] || LISTS[key];
}

// The Russian name of a code ("ACTIVE" of /education/0/status → «обучается»), or the code.
export function codeName(pointerOrKey, code) {
  const list = CODES[listOf(pointerOrKey)];
  return list && list[code] ? list[code][0] : code;
}

export const ACTIONS = {
  create: 'создание', update: 'изменение', identity_change: 'изменение личных данных', delete: 'удаление',
  merge: 'объединение: присоединена запись-дубликат', merged: 'объединение: запись присоединена к другой',
  unmerge: 'разъединение: отделена запись-дубликат', unmerged: 'разъединение: запись восстановлена',
};

// The other record a merge or unmerge version names (docs/api.md, "Merge and unmerge").
export const LINKS = {
  merged_from: 'Присоединённая запись', merged_into: 'Сохранённая запись',
  unmerged: 'Отделённая запись', unmerged_from: 'Запись, от которой отделена',
};

// The member of a version naming the other record of a merge or unmerge, or null.
export function linkOf(e) {
  const key = Object.keys(LINKS).find((k) => typeof e[k] === 'string');
  return key ? { key, label: LINKS[key], id: e[key] } : null;
}

// How the card names a record's state.
export function stateText(state) {
  return { DELETED: 'запись удалена', MERGED: 'запись объединена с другой (см. историю)' }[state] || 'запись действует';
}

export const ROLES = {
  region: 'региональная система', school: 'школа', ministry: 'министерство',
  ministry_education: 'министерство образования', ministry_health: 'министерство здравоохранения',
  portal: 'портал госуслуг', auditor: 'аудитор', admin: 'администратор',
};

export const READS = {
  student: 'карточка', student_as_of: 'карточка на дату', search: 'поиск', history: 'история',
  version: 'версия', audit_changes: 'журнал изменений (аудит)', export: 'выгрузка',
  family: 'госуслуги: список детей', family_child: 'госуслуги: сведения о ребёнке',
};

// "/documents/0/number" → "Документы › 1 › Номер".
export function pointerLabel(pointer) {
  return pointer.split('/').slice(1).map((p) => {
    const key = p.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(key) ? String(Number(key) + 1) : (FIELDS[key] || key);
  }).join(' › ') || '(запись целиком)';
}

// A value as one line of text; where is the member's pointer or key (for codes).
export function valueText(v, where = '') {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.length ? v.map((x) => valueText(x, where)).join('; ') : '—';
  if (typeof v === 'object') {
    const base = where.startsWith('/') ? where : `/${where}`;
    return Object.entries(v).map(([k, x]) => `${FIELDS[k] || k}: ${valueText(x, `${base}/${k}`)}`).join(', ');
  }
  if (typeof v === 'boolean') return v ? 'да' : 'нет';
  const key = members(where).pop();
  if (key === 'snils' && /^\d{11}$/.test(v)) return `${v.slice(0, 3)}-${v.slice(3, 6)}-${v.slice(6, 9)} ${v.slice(9)}`;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return v.split('-').reverse().join('.');
  return typeof v === 'string' ? codeName(where, v) : String(v);
}

// The last named member of a pointer ("/documents/0/type" → "type").
export function pointerKey(pointer) {
  const parts = members(pointer);
  return parts[parts.length - 1] || '';
}

const pad = (n) => String(n).padStart(2, '0');

// "+03:00" for an offset in minutes east of UTC.
function offsetText(east) {
  const sign = east < 0 ? '−' : '+';
  const a = Math.abs(east);
  return `${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

// A time as people read it, in the browser's time zone and saying which:
// "20.09.2026 14:05:03 (UTC+03:00)".
export function timeText(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.${d.getFullYear()} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} (UTC${offsetText(-d.getTimezoneOffset())})`;
}

// A time for a CSV cell headed "Время (UTC)": "20.09.2026 11:05:03", which a
// Russian-locale spreadsheet reads as a date and time.
export function csvTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getUTCDate())}.${pad(d.getUTCMonth() + 1)}.${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function principalText(p) {
  if (!p) return '—';
  const role = ROLES[p.role] || p.role;
  return `${p.subject} (${role}${p.organization ? ', ОГРН ' + p.organization : ''})`;
}

export function sourceText(s) {
  if (!s) return '—';
  if (s.package_id) return `пакет ${s.package_id}, элемент ${s.item}`;
  return `запрос ${s.request_id}`;
}

export function fullName(doc) {
  return [doc.last_name, doc.first_name, doc.middle_name].filter(Boolean).join(' ');
}
