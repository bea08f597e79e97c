// diff: two versions of a student compared member by member (JSON Pointers to
// the leaves), and the guard that keeps health data off the screen for tokens
// without the health scope.

function escape(key) {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

// {pointer: leaf value} of a document; empty arrays and objects are leaves.
export function flatten(value, prefix = '', out = new Map()) {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    if (entries.length === 0) out.set(prefix, value);
    for (const [k, v] of entries) flatten(v, `${prefix}/${escape(k)}`, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

const BOOKKEEPING = new Set(['/version', '/id']);

// [{pointer, a, b}] for every member that differs, in document order.
export function compare(docA, docB) {
  const a = flatten(docA);
  const b = flatten(docB);
  const pointers = [...new Set([...a.keys(), ...b.keys()])];
  return pointers
    .filter((p) => !BOOKKEEPING.has(p))
    .filter((p) => JSON.stringify(a.get(p)) !== JSON.stringify(b.get(p)))
    .map((p) => ({ pointer: p, a: a.has(p) ? a.get(p) : null, b: b.has(p) ? b.get(p) : null }));
}

const isHealth = (pointer) => pointer === '/health' || pointer.startsWith('/health/');

// Without the health scope: the document without its health block, the
// changes without those to it.
export function withoutHealth(doc, scopes) {
  if (scopes.includes('health') || !doc || !('health' in doc)) return doc;
  const copy = { ...doc };
  delete copy.health;
  return copy;
}

export function changesWithoutHealth(changes, scopes) {
  return scopes.includes('health') ? changes : (changes || []).filter((c) => !isHealth(c.pointer));
}
