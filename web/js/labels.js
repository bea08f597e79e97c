// labels: the one table of Russian names for fields and codes, and how values
// read on screen.

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
};

const ENUMS = {
  sex: { M: 'мужской', F: 'женский' },
  state: { ACTIVE: 'действует', DELETED: 'удалена', MERGED: 'объединена с другой записью' },
  category: { RF: 'гражданин РФ', FOREIGN: 'иностранный гражданин', DUAL: 'двойное гражданство', STATELESS: 'без гражданства' },
  type: {
    BIRTH_CERT_RF: 'свидетельство о рождении РФ', PASSPORT_RF: 'паспорт РФ',
    BIRTH_CERT_FOREIGN: 'иностранное свидетельство о рождении', PASSPORT_FOREIGN: 'иностранный паспорт', OTHER: 'иной документ',
  },
  kind: {
    REGISTRATION: 'регистрации', RESIDENCE: 'пребывания', ACTUAL: 'фактический',
    MOTHER: 'мать', FATHER: 'отец', GUARDIAN: 'опекун', TRUSTEE: 'попечитель', ADOPTIVE_PARENT: 'усыновитель', OTHER: 'иной',
  },
};

export const DOCUMENT_TYPES = ENUMS.type;

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
  auditor: 'аудитор', admin: 'администратор',
};

export const READS = {
  student: 'карточка', student_as_of: 'карточка на дату', search: 'поиск', history: 'история',
  version: 'версия', audit_changes: 'журнал изменений (аудит)', export: 'выгрузка',
};

// "/documents/0/number" → "Документы › 1 › Номер".
export function pointerLabel(pointer) {
  return pointer.split('/').slice(1).map((p) => {
    const key = p.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^\d+$/.test(key) ? String(Number(key) + 1) : (FIELDS[key] || key);
  }).join(' › ') || '(запись целиком)';
}

function enumText(key, v) {
  const t = ENUMS[key] && ENUMS[key][v];
  return t ? `${t} (${v})` : v;
}

// A value as one line of text; key names the member (for codes).
export function valueText(v, key) {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.length ? v.map((x) => valueText(x, key)).join('; ') : '—';
  if (typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => `${FIELDS[k] || k}: ${valueText(x, k)}`).join(', ');
  }
  if (key === 'snils' && /^\d{11}$/.test(v)) return `${v.slice(0, 3)}-${v.slice(3, 6)}-${v.slice(6, 9)} ${v.slice(9)}`;
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return v.split('-').reverse().join('.');
  return typeof v === 'string' ? enumText(key, v) : String(v);
}

// The last named member of a pointer ("/documents/0/type" → "type").
export function pointerKey(pointer) {
  const parts = pointer.split('/').filter((p) => p && !/^\d+$/.test(p));
  return parts[parts.length - 1] || '';
}

export function timeText(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('ru-RU', { dateStyle: 'short', timeStyle: 'medium' });
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
