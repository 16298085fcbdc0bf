import { readZipEntries } from '../files/zip-archive.ts';

/**
 * The file `ReportSegnalazioni` answers in `fileCSV` (base64). Its layout is NOT published: no kit
 * file, specification or public capture shows one (docs/protocol.md §1.10). What is inferred: that it
 * is a zip holding one CSV, as `ReportMensile`'s `report.csv` is, and that the CSV is Latin-1 with
 * `;` between fields, as every other STS CSV. So nothing is read by position or by a column name we
 * guessed: every row is kept raw, next to its fields, and the columns are the file's own first line.
 * A `fileCSV` that is not a zip is read as the CSV itself; quoted fields (`"a;b"`, `""`) are honoured.
 */

export interface CitizenReportListFile {
  /** The zip entry the CSV came from; absent when `fileCSV` was the CSV itself. */
  entryName?: string;
  /** The whole CSV text, decoded as Latin-1. */
  csv: string;
  /** The field separator found in the first line (`;` unless that line has none and has `,`). */
  separator: ';' | ',';
  /** The first line's fields, trimmed, as the STS wrote them. */
  columns: string[];
  rows: CitizenReportRow[];
}

export interface CitizenReportRow {
  /** The record exactly as received (without its line end). */
  raw: string;
  fields: string[];
  /** Column name → field, only when the row has exactly as many fields as there are columns. */
  byColumn?: Record<string, string>;
}

const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Reads `fileCSV` once decoded from base64; throws on a zip it cannot read. */
export function readCitizenReportListFile(
  bytes: Buffer,
  options: { maxUncompressedBytes: number },
): CitizenReportListFile {
  let entryName: string | undefined;
  let content = bytes;
  if (bytes.subarray(0, 4).equals(ZIP_SIGNATURE)) {
    const entries = readZipEntries(bytes, options);
    const entry = entries.find((candidate) => /\.csv$/i.test(candidate.entryName)) ?? entries[0];
    if (!entry) throw new Error('the citizen report file is an empty zip');
    entryName = entry.entryName;
    content = entry.content;
  }
  const csv = content.toString('latin1');
  const records = splitRecords(csv).filter((record) => record.trim() !== '');
  const [header = '', ...lines] = records;
  const separator = !header.includes(';') && header.includes(',') ? ',' : ';';
  const columns = splitFields(header, separator).map((name) => name.trim());
  const rows = lines.map((raw): CitizenReportRow => {
    const fields = splitFields(raw, separator);
    return fields.length === columns.length
      ? { raw, fields, byColumn: Object.fromEntries(columns.map((name, i) => [name, fields[i]!])) }
      : { raw, fields };
  });
  return { ...(entryName === undefined ? {} : { entryName }), csv, separator, columns, rows };
}

/** Records end at a line end outside quotes (a quoted field may hold one). */
function splitRecords(text: string): string[] {
  const records: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (char === '\n' && !quoted) {
      records.push(text.slice(start, text[i - 1] === '\r' ? i - 1 : i));
      start = i + 1;
    }
  }
  if (start < text.length) records.push(text.slice(start));
  return records;
}

/** Fields of one record; `"…"` quoting with `""` for a quote inside, as RFC 4180 has it. */
function splitFields(record: string, separator: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < record.length; i++) {
    const char = record[i]!;
    if (quoted) {
      if (char !== '"') field += char;
      else if (record[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === separator) {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}
