// csv: what is on screen as a CSV file that Excel opens as it is: UTF-8 with
// a byte-order mark (Cyrillic), ";"-separated (the Russian locale's list
// separator), CRLF lines, every cell quoted, and cells that a spreadsheet would
// run as a formula (= + - @, tab, CR) neutralised by a leading apostrophe.

const FORMULA = /^[=+\-@\t\r]/;

export function cell(value) {
  let s = value === null || value === undefined ? '' : String(value);
  if (FORMULA.test(s)) s = "'" + s;
  return '"' + s.replace(/"/g, '""') + '"';
}

export function csv(headers, rows) {
  return '\uFEFF' + [headers, ...rows].map((r) => r.map(cell).join(';')).join('\r\n') + '\r\n';
}

// Offers the file for download.
export function download(name, headers, rows) {
  const blob = new Blob([csv(headers, rows)], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
