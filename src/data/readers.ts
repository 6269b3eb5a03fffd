import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { ArgumentError } from '../errors.js';
import { readTextFile } from '../files.js';

/** A data-file problem: the message names the file and, where it can, the line. */
export class DataError extends ArgumentError {}

export interface SourcedRecord {
  fields: Record<string, unknown>;
  file: string;
  line: number;
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. Returns rows with their first line numbers. */
function parseCsv(text: string, file: string): { row: string[]; line: number }[] {
  const rows: { row: string[]; line: number }[] = [];
  let field = '',
    row: string[] = [],
    quoted = false,
    line = 1,
    rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push({ row, line: rowLine });
      row = [];
      line++;
      rowLine = line;
    } else field += c;
  }
  if (quoted) throw new DataError(`[data] ${file}:${rowLine}: a quoted field is never closed.`, 'Close the quote or escape quotes inside fields as "".');
  if (field !== '' || row.length) {
    row.push(field);
    rows.push({ row, line: rowLine });
  }
  return rows;
}

/** Reads records from JSONL (one object per line), JSON (an array of objects) or CSV (a header row), by extension. */
export function readRecords(file: string): SourcedRecord[] {
  if (!existsSync(file)) throw new DataError(`[data] ${file} does not exist.`, 'Check the --data path.');
  const text = readTextFile(file, (problem) => new DataError(`[data] ${file} ${problem}.`, 'Pass a .jsonl, .json or .csv data file.')).replace(/^\uFEFF/, ''); // editors on Windows start files with a byte-order mark; it is not part of the first field
  const format = extname(file).toLowerCase();
  let records: SourcedRecord[];
  if (format === '.jsonl' || format === '.ndjson') {
    records = [];
    text.split('\n').forEach((raw, i) => {
      if (raw.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        throw new DataError(`[data] ${file}:${i + 1}: not valid JSON.`, 'Each line of a .jsonl file must be one JSON object.');
      }
      if (!value || typeof value !== 'object' || Array.isArray(value))
        throw new DataError(`[data] ${file}:${i + 1}: expected a JSON object, got ${JSON.stringify(value).slice(0, 40)}.`, 'Each line must be an object such as {"prompt": ..., "completion": ...}.');
      records.push({ fields: value as Record<string, unknown>, file, line: i + 1 });
    });
  } else if (format === '.json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new DataError(`[data] ${file}: not valid JSON (${(cause as Error).message}).`, 'A .json data file must be an array of objects.');
    }
    if (!Array.isArray(value)) throw new DataError(`[data] ${file}: expected an array of objects.`, 'Use [{"prompt": ..., "completion": ...}, ...] or a .jsonl file.');
    records = value.map((fields, i) => {
      if (!fields || typeof fields !== 'object') throw new DataError(`[data] ${file}: item ${i} is not an object.`, 'Every item must be an object.');
      return { fields: fields as Record<string, unknown>, file, line: i + 1 };
    });
  } else if (format === '.csv') {
    const [header, ...rows] = parseCsv(text, file);
    if (!header) throw new DataError(`[data] ${file} is empty.`, 'A CSV needs a header row and at least one data row.');
    records = rows.map(({ row, line }) => {
      if (row.length !== header.row.length) throw new DataError(`[data] ${file}:${line}: ${row.length} fields where the header has ${header.row.length}.`, 'Quote fields that contain commas.');
      return { fields: Object.fromEntries(header.row.map((h, i) => [h, row[i]])), file, line };
    });
  } else {
    throw new DataError(`[data] ${file}: unknown format '${format || '(none)'}'.`, 'Use .jsonl, .json or .csv.');
  }
  if (records.length === 0) throw new DataError(`[data] ${file} holds no records.`, 'Add at least one example.');
  return records;
}

/**
 * The text of a record's field, or a DataError naming the file, line and field. Numbers and
 * booleans read as written (as lm-eval-harness templates do); objects and lists have no text
 * and are refused, never trained on as "[object Object]".
 */
export function field(record: SourcedRecord, name: string): string {
  const value = record.fields[name];
  if (value === undefined || value === null) {
    throw new DataError(
      `[data] ${record.file}:${record.line}: missing field '${name}' (fields: ${Object.keys(record.fields).join(', ')}).`,
      'Map your fields with --prompt-field/--completion-field or a template.',
    );
  }
  if (typeof value === 'string') return value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') return String(value);
  throw new DataError(
    `[data] ${record.file}:${record.line}: field '${name}' holds ${Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : String(value)}, not text.`,
    'Map a field that holds a string (for chat messages use --messages-field).',
  );
}

/** Fills {name} placeholders from a record ({{ and }} are literal braces). */
export function renderTemplate(template: string, record: SourcedRecord): string {
  return template.replace(/\{\{|\}\}|\{([A-Za-z0-9_.-]+)\}/g, (m, name: string | undefined) => (m === '{{' ? '{' : m === '}}' ? '}' : field(record, name!)));
}
