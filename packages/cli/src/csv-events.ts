import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse as parseStream } from 'csv-parse';
import { parse } from 'csv-parse/sync';
import { UsageError } from './errors.ts';

/**
 * The flat CSV format of `sts import`: a header row naming the columns (any order, names as below,
 * case-insensitive), then one row per expense line. Consecutive rows with the same operation and
 * document id (vatNumber, issueDate, device, number) are one document with several lines; their
 * document columns must be empty or repeat the first row's.
 */
export const CSV_COLUMNS = {
  operation: 'insert, update, refund or cancel (required)',
  credentialId: "the sender credential's id (optional when one credential lists the VAT number)",
  vatNumber: "the issuer's partita IVA, 11 digits (required)",
  issueDate: 'YYYY-MM-DD (required)',
  device: 'the cash register, 1 for invoices (required)',
  number: 'the document number (required)',
  paymentDate: 'YYYY-MM-DD',
  paidInAdvance: 'true/false: paid before the document was issued',
  patientTaxCode: "the patient's codice fiscale, or `opposed` when the patient opposed sending",
  traceablePayment: 'true/false: paid by traceable means',
  documentType: 'invoice or receipt',
  refundedVatNumber: 'refunds: the refunded document, its VAT number',
  refundedIssueDate: '… its issue date',
  refundedDevice: '… its device',
  refundedNumber: '… its number',
  expenseType: 'the expense line: TK, FC, FV, AS, AD, SR, CT, PI, IC, AA, SV, SP',
  expenseTypeFlag: 'emergency-ticket or intramoenia (optional)',
  amount: 'decimal with a dot, e.g. 120.00',
  vatRate: 'e.g. 22.00 (or vatNature)',
  vatNature: 'e.g. N4 (or vatRate)',
} as const;
export type CsvColumn = keyof typeof CSV_COLUMNS;

const REQUIRED: CsvColumn[] = ['operation', 'vatNumber', 'issueDate', 'device', 'number'];
const ID_COLUMNS: CsvColumn[] = ['operation', 'vatNumber', 'issueDate', 'device', 'number'];
const LINE_COLUMNS: CsvColumn[] = ['expenseType', 'expenseTypeFlag', 'amount', 'vatRate', 'vatNature'];
const DOCUMENT_COLUMNS = (Object.keys(CSV_COLUMNS) as CsvColumn[]).filter(
  (column) => !ID_COLUMNS.includes(column) && !LINE_COLUMNS.includes(column),
);

/** An event made from the file, with where it came from. */
export interface SourcedEvent {
  /** The event as one NDJSON line. */
  text: string;
  /** The file line of the event (its first row). */
  line: number;
  /** For CSV: the file line of each expense line, in order. */
  lineRows?: number[];
}

/** A rejection, by line of the file and, where known, column (CSV) and field (the event's path). */
export interface Rejection {
  line: number;
  column?: string;
  field?: string;
  rule: string;
  message: string;
  hint?: string;
}

type Row = Partial<Record<CsvColumn, string>>;

const OPERATION_LETTERS: Record<string, string> = { i: 'insert', v: 'update', r: 'refund', c: 'cancel' };
const TRUE = ['true', 'yes', 'si', 'sì', 'y', '1'];
const FALSE = ['false', 'no', 'n', '0'];

/** A boolean column: true/false (yes/no, si/no, 1/0); anything else is passed on for the gateway to name. */
function flag(value: string): boolean | string {
  const lower = value.toLowerCase();
  if (TRUE.includes(lower)) return true;
  if (FALSE.includes(lower)) return false;
  return value;
}
const integer = (value: string): number | string => (/^\d{1,6}$/.test(value) ? Number(value) : value);

/** The delimiter of a header row: the most frequent of `,` `;` and tab (`,` when none). */
export function detectDelimiter(firstLine: string): string {
  const counts = [',', ';', '\t'].map((char) => [char, firstLine.split(char).length - 1] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0]![1] > 0 ? counts[0]![0] : ',';
}

/** What csv-parse is asked for, the same whether the file is read at once or streamed. */
export const csvParseOptions = (delimiter: string) => ({
  delimiter,
  bom: true,
  info: true,
  relax_column_count: true,
  skip_empty_lines: true,
  trim: true,
});

/** An event or a rejection, as the file's records are read. */
export type CsvItem = { event: SourcedEvent } | { rejection: Rejection };

/**
 * Turns the CSV's records into events, one record at a time (the header first): a document is
 * given once the next record starts another one, the last at `end()`. Holds one document's rows.
 */
export function createCsvEventReader() {
  let columns: (CsvColumn | undefined)[] | undefined;
  let current: { key: string; first: Row; line: number; rows: { row: Row; line: number }[] } | undefined;

  const finish = (): CsvItem[] => {
    if (!current) return [];
    const made = documentEvent(current.first, current.rows, current.line);
    current = undefined;
    return [made];
  };

  const header = (record: string[]) => {
    const known = new Map(
      (Object.keys(CSV_COLUMNS) as CsvColumn[]).map((name) => [name.toLowerCase(), name]),
    );
    const named = record.map((name) => known.get(name.trim().toLowerCase()));
    const unknown = record.filter((_, index) => named[index] === undefined);
    if (unknown.length)
      throw new UsageError(`unknown CSV column(s): ${unknown.join(', ')} (see sts import --help)`);
    const missing = REQUIRED.filter((name) => !named.includes(name));
    if (missing.length)
      throw new UsageError(`the CSV has no column ${missing.join(', ')} (see sts import --help)`);
    columns = named;
  };

  return {
    /** One record and the file line it starts on; what it completed. */
    push(record: string[], line: number): CsvItem[] {
      if (!columns) {
        header(record);
        return [];
      }
      const row: Row = {};
      columns.forEach((column, index) => {
        const value = record[index]?.trim();
        if (column && value) row[column] = value;
      });
      if (record.length > columns.length) {
        return [
          ...finish(),
          {
            rejection: {
              line,
              rule: 'column-count',
              message: `${record.length} values for ${columns.length} columns (a comma in a value must be quoted)`,
            },
          },
        ];
      }
      const key = ID_COLUMNS.map((column) => row[column] ?? '').join('\u0000');
      if (current && current.key === key) {
        current.rows.push({ row, line });
        return [];
      }
      const done = finish();
      current = { key, first: row, line, rows: [{ row, line }] };
      return done;
    },
    /** The last document; a file without even a header is a usage error. */
    end(): CsvItem[] {
      if (!columns)
        throw new UsageError('the CSV is empty: a header row is expected (see sts import --help)');
      return finish();
    },
  };
}

const cannotRead = (error: unknown) => new UsageError(`the CSV cannot be read: ${(error as Error).message}`);

/** Reads the CSV text into events (documents), with the rows the file itself gets wrong as rejections. */
export function csvToEvents(
  text: string,
  options: { delimiter?: string } = {},
): { events: SourcedEvent[]; rejections: Rejection[]; rows: number } {
  const body = text.replace(/^\uFEFF/, '');
  const delimiter = options.delimiter ?? detectDelimiter(body.slice(0, body.indexOf('\n') >>> 0));
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(body, csvParseOptions(delimiter)) as unknown as typeof records;
  } catch (error) {
    throw cannotRead(error);
  }
  const reader = createCsvEventReader();
  const events: SourcedEvent[] = [];
  const rejections: Rejection[] = [];
  const take = (items: CsvItem[]) => {
    for (const item of items) {
      if ('event' in item) events.push(item.event);
      else rejections.push(item.rejection);
    }
  };
  for (const { record, info } of records) take(reader.push(record, info.lines));
  take(reader.end());
  return { events, rejections, rows: Math.max(0, records.length - 1) };
}

/** The CSV read from a stream of its bytes, record by record: its events and rejections in file order. */
export async function* csvItemsOf(bytes: Readable, delimiter: string): AsyncGenerator<CsvItem> {
  const reader = createCsvEventReader();
  const parser = parseStream(csvParseOptions(delimiter));
  // A failure on either side reaches the loop below through the parser; stopping early ends both.
  const feeding = pipeline(bytes, parser).catch(() => {});
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>)
      yield* reader.push(record, info.lines);
  } catch (error) {
    throw error instanceof UsageError ? error : cannotRead(error);
  } finally {
    parser.destroy();
    await feeding;
  }
  yield* reader.end();
}

function documentEvent(
  first: Row,
  rows: { row: Row; line: number }[],
  line: number,
): { event: SourcedEvent } | { rejection: Rejection } {
  for (const column of REQUIRED) {
    if (!first[column])
      return { rejection: { line, column, rule: 'required', message: `${column} is empty` } };
  }
  for (const { row, line: rowLine } of rows.slice(1)) {
    for (const column of DOCUMENT_COLUMNS) {
      if (row[column] !== undefined && row[column] !== first[column])
        return {
          rejection: {
            line: rowLine,
            column,
            rule: 'conflicting-rows',
            message: `${column} "${row[column]}" differs from the document's first row (line ${line}); leave it empty on its further rows`,
          },
        };
    }
  }
  const operationText = first.operation!.toLowerCase();
  const operation = OPERATION_LETTERS[operationText] ?? operationText;
  const id = {
    vatNumber: first.vatNumber,
    issueDate: first.issueDate,
    device: integer(first.device!),
    number: first.number,
  };
  const lineRows: number[] = [];
  const lines = rows.flatMap(({ row, line: rowLine }) => {
    if (!LINE_COLUMNS.some((column) => row[column] !== undefined)) return [];
    lineRows.push(rowLine);
    return [
      {
        ...(row.expenseType !== undefined ? { expenseType: row.expenseType.toUpperCase() } : {}),
        ...(row.expenseTypeFlag !== undefined ? { expenseTypeFlag: row.expenseTypeFlag } : {}),
        ...(row.amount !== undefined ? { amount: row.amount } : {}),
        ...(row.vatRate !== undefined ? { vatRate: row.vatRate } : {}),
        ...(row.vatNature !== undefined ? { vatNature: row.vatNature.toUpperCase() } : {}),
      },
    ];
  });
  const onlyId =
    operation === 'cancel' &&
    lines.length === 0 &&
    DOCUMENT_COLUMNS.every((c) => !first[c] || c === 'credentialId');
  const document: Record<string, unknown> = { id };
  if (!onlyId) {
    if (first.paymentDate !== undefined) document.paymentDate = first.paymentDate;
    if (first.paidInAdvance !== undefined) document.paidInAdvance = flag(first.paidInAdvance);
    if (first.patientTaxCode !== undefined)
      document.patient =
        first.patientTaxCode.toLowerCase() === 'opposed'
          ? { kind: 'opposed' }
          : { kind: 'identified', taxCode: first.patientTaxCode.toUpperCase() };
    if (first.traceablePayment !== undefined) document.traceablePayment = flag(first.traceablePayment);
    if (first.documentType !== undefined) document.documentType = first.documentType.toLowerCase();
    if (first.refundedVatNumber || first.refundedIssueDate || first.refundedDevice || first.refundedNumber)
      document.refundedDocumentId = {
        vatNumber: first.refundedVatNumber,
        issueDate: first.refundedIssueDate,
        device: first.refundedDevice === undefined ? undefined : integer(first.refundedDevice),
        number: first.refundedNumber,
      };
    document.lines = lines;
  }
  const event = { operation, ...(first.credentialId ? { credentialId: first.credentialId } : {}), document };
  return {
    event: { text: JSON.stringify(event), line, ...(lineRows.length ? { lineRows } : { lineRows: [line] }) },
  };
}

/**
 * Where a field the gateway names (`document.lines[1].vatNature`) is in the CSV: the row of that
 * expense line and the column.
 */
export function locateCsvField(field: string, source: SourcedEvent): { line: number; column?: string } {
  const path = field.replace(/^line \d+[ .:]*/, '');
  const lineMatch = /^document\.lines\[(\d+)\]\.(\w+)/.exec(path);
  if (lineMatch)
    return { line: source.lineRows?.[Number(lineMatch[1])] ?? source.line, column: lineMatch[2] };
  if (/^document\.lines(\[\d+\])?$/.test(path)) return { line: source.line, column: 'expenseType' };
  const id = /^document\.id\.(\w+)/.exec(path);
  if (id) return { line: source.line, column: id[1] };
  const refunded = /^document\.refundedDocumentId\.(\w+)/.exec(path);
  if (refunded)
    return { line: source.line, column: `refunded${refunded[1]![0]!.toUpperCase()}${refunded[1]!.slice(1)}` };
  if (path.startsWith('document.patient')) return { line: source.line, column: 'patientTaxCode' };
  const documentField = /^document\.(\w+)$/.exec(path);
  if (documentField && documentField[1]! in CSV_COLUMNS)
    return { line: source.line, column: documentField[1] };
  if (path === 'operation' || path === 'credentialId') return { line: source.line, column: path };
  return { line: source.line };
}
