// api: the JSON API with the auditor's token. The token lives in this tab's
// sessionStorage only: never in the URL, never in localStorage.

const KEY = 'kt.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || '';
    this.problem = problem;
  }
}

const MESSAGES = {
  401: 'Токен не принят (истёк или неверен). Войдите снова.',
  403: 'Этому токену доступ запрещён.',
  404: 'Не найдено.',
  503: 'Сервис временно недоступен; повторите позже.',
};

// A message for people, in Russian.
export function describe(err) {
  if (!(err instanceof ApiError)) return `Сбой связи с сервером: ${err.message}`;
  const base = MESSAGES[err.status] || err.problem.title || `Ошибка ${err.status}`;
  const rid = err.problem.request_id ? ` (запрос ${err.problem.request_id})` : '';
  return err.status === 400 ? `${base}: ${err.problem.detail || ''}${rid}` : base + rid;
}

// GET path?params with the token (or the one given); the parsed JSON body.
export async function get(path, params, bearer) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const url = '/api/v1' + path + (q.size ? '?' + q : '');
  const res = await fetch(url, {
    // The console speaks Russian: the API's messages come in its language (docs/i18n.md).
    headers: { Authorization: `Bearer ${bearer || token.get()}`, Accept: 'application/json', 'Accept-Language': 'ru' },
    cache: 'no-store',
    credentials: 'omit',
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}
