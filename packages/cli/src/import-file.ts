import { createHash, type Hash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  createReadStream,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { pipeline, type Readable, Transform } from 'node:stream';
import type { Api } from './api.ts';
import {
  type CsvItem,
  csvItemsOf,
  detectDelimiter,
  locateCsvField,
  type Rejection,
  type SourcedEvent,
} from './csv-events.ts';
import { UsageError } from './errors.ts';

export type ImportFormat = 'ndjson' | 'csv';

export interface ImportOptions {
  file: string;
  format?: ImportFormat;
  chunkSize: number;
  /** The local state file (NDJSON: a header, then one line per answered chunk). */
  statePath: string;
  delimiter?: string;
  onStart?: (total: number, resumedEvents: number) => void;
  onChunk?: (done: number) => void;
}

/** What the state file keeps of one answered chunk. */
interface ChunkRecord {
  chunk: number;
  events: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Invoice ids of the accepted and duplicate events, by the file line of each event. */
  invoices: [number, string][];
  rejections: Rejection[];
}

export interface ImportSummary {
  file: string;
  format: ImportFormat;
  events: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  chunks: { total: number; sent: number; resumed: number };
  state: string;
  rejections: Rejection[];
}

interface StateHeader {
  kind: 'sts-import';
  file: string;
  sha256: string;
  chunkSize: number;
  gateway: string;
}

export function formatOf(file: string, given?: string): ImportFormat {
  if (given === 'csv' || given === 'ndjson') return given;
  if (given !== undefined) throw new UsageError(`--format "${given}": csv or ndjson`);
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(ndjson|jsonl)$/i.test(file)) return 'ndjson';
  throw new UsageError(`${file}: name it .csv, .ndjson or .jsonl, or give --format`);
}

/** Reads a state file: its header and the chunks answered (a line cut short by a crash is ignored). */
export function readState(path: string): { header?: StateHeader; chunks: Map<number, ChunkRecord> } {
  const chunks = new Map<number, ChunkRecord>();
  if (!existsSync(path)) return { chunks };
  const lines = readFileSync(path, 'utf8').split('\n');
  let header: StateHeader | undefined;
  for (const line of lines) {
    if (!line.trim()) continue;
    let value: any;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (value?.kind === 'sts-import') header = value;
    else if (typeof value?.chunk === 'number') chunks.set(value.chunk, value);
  }
  return { header, chunks };
}

/** The invoice ids an import recorded in its state file (for `sts wait --file`). */
export function invoiceIdsOfState(path: string): string[] {
  return [...invoiceLinesOfState(path).keys()];
}

/** The invoice ids an import recorded in its state file, each with the line of the file it came from. */
export function invoiceLinesOfState(path: string): Map<string, number> {
  if (!existsSync(path)) throw new UsageError(`no import state file ${path}`);
  const { header, chunks } = readState(path);
  if (!header) throw new UsageError(`${path} is not an import state file`);
  const lines = new Map<string, number>();
  for (const chunk of [...chunks.values()].sort((a, b) => a.chunk - b.chunk))
    for (const [line, id] of chunk.invoices) lines.set(id, line);
  return lines;
}

/** The file's bytes as a stream, each chunk also given to `hash` as it passes. */
function hashedBytes(file: string, hash: Hash): Readable {
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  return pipeline(createReadStream(file), hashing, () => {});
}

/** The header row of a CSV (its first 64 KiB at most), for the delimiter. */
function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const text = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
    const end = text.indexOf('\n');
    return (end < 0 ? text : text.slice(0, end)).replace(/^\uFEFF/, '');
  } finally {
    closeSync(fd);
  }
}

/** An NDJSON file's events from a stream of its bytes: one a line that is not blank, with its line number. */
async function* ndjsonItemsOf(bytes: Readable): AsyncGenerator<CsvItem> {
  let rest = '';
  let line = 0;
  bytes.setEncoding('utf8');
  for await (const chunk of bytes as AsyncIterable<string>) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      line += 1;
      const text = part.replace(/\r$/, '');
      if (text.trim()) yield { event: { text, line } };
    }
  }
  const text = rest.replace(/\r$/, '');
  if (text.trim()) yield { event: { text, line: line + 1 } };
}

/** The file's events (and, for a CSV, the rows it gets wrong itself) in file order, read as a stream. */
function itemsOf(file: string, format: ImportFormat, delimiter: string | undefined, hash: Hash) {
  const bytes = hashedBytes(file, hash);
  return format === 'csv' ? csvItemsOf(bytes, delimiter ?? ',') : ndjsonItemsOf(bytes);
}

/**
 * Sends a file's events to `POST /v1/invoices/batch` as NDJSON, `chunkSize` events a request, each
 * with the Idempotency-Key `sts-import:<sha-256 of the file>:<chunk size>:<chunk index>`. A chunk
 * recorded in the state file is not sent again; one sent but not recorded (the process stopped
 * before) is answered again from the gateway's idempotency record, and a document the gateway holds
 * already comes back as a duplicate: a resumed import never stores an event twice.
 */
export async function importFile(api: Api, options: ImportOptions): Promise<ImportSummary> {
  const format = formatOf(options.file, options.format);
  let delimiter: string | undefined;
  try {
    if (!statSync(options.file).isFile()) throw new Error('not a file');
    if (format === 'csv') delimiter = options.delimiter ?? detectDelimiter(firstLine(options.file));
  } catch (error) {
    throw new UsageError(`${options.file}: ${(error as Error).message}`);
  }

  // The file is read twice, as a stream, never whole: first for its SHA-256 (every idempotency key
  // holds it, so it is needed before anything is sent), its events counted (the progress bar) and
  // the rows a CSV gets wrong itself; then to send it chunk by chunk.
  const firstHash = createHash('sha256');
  let total = 0;
  const fileRejections: Rejection[] = [];
  for await (const item of itemsOf(options.file, format, delimiter, firstHash)) {
    if ('event' in item) total += 1;
    else fileRejections.push(item.rejection);
  }
  const sha256 = firstHash.digest('hex');
  // Every key holds that hash: a file changed from here on must not be sent under it. Its size and
  // time are checked before each chunk (the second hash, at the end, catches a same-size rewrite).
  const read = statSync(options.file);
  const changed = () => {
    const now = statSync(options.file, { throwIfNoEntry: false });
    return !now || now.size !== read.size || now.mtimeMs !== read.mtimeMs;
  };
  const changedError = () =>
    new Error(
      `${options.file} changed while it was imported: run the command again (what was sent is recorded in ${options.statePath})`,
    );

  const header: StateHeader = {
    kind: 'sts-import',
    file: options.file,
    sha256,
    chunkSize: options.chunkSize,
    gateway: api.url,
  };
  const previous = readState(options.statePath);
  const resumable =
    previous.header?.sha256 === sha256 &&
    previous.header.chunkSize === options.chunkSize &&
    previous.header.gateway === api.url;
  const done = resumable ? previous.chunks : new Map<number, ChunkRecord>();
  if (!resumable) writeFileSync(options.statePath, `${JSON.stringify(header)}\n`);

  const chunkCount = Math.ceil(total / options.chunkSize);
  let resumedEvents = 0;
  for (const record of done.values()) resumedEvents += record.events;
  options.onStart?.(total, resumedEvents);

  let sent = 0;
  let progress = resumedEvents;
  let index = 0;
  let chunk: SourcedEvent[] = [];
  const send = async () => {
    if (chunk.length === 0) return;
    if (done.has(index)) {
      index += 1;
      chunk = [];
      return;
    }
    if (changed()) throw changedError();
    const answer = await api.request<BatchAnswer>('POST', '/v1/invoices/batch', {
      body: `${chunk.map((event) => event.text).join('\n')}\n`,
      contentType: 'application/x-ndjson',
      headers: { 'idempotency-key': `sts-import:${sha256}:${options.chunkSize}:${index}` },
      retries: 8,
    });
    const record = chunkRecord(index, chunk, answer.body, format);
    appendFileSync(options.statePath, `${JSON.stringify(record)}\n`);
    done.set(index, record);
    sent += 1;
    progress += chunk.length;
    options.onChunk?.(progress);
    index += 1;
    chunk = [];
  };
  const secondHash = createHash('sha256');
  for await (const item of itemsOf(options.file, format, delimiter, secondHash)) {
    if (!('event' in item)) continue;
    chunk.push(item.event);
    if (chunk.length === options.chunkSize) await send();
  }
  await send();
  if (secondHash.digest('hex') !== sha256) throw changedError();

  const summary: ImportSummary = {
    file: options.file,
    format,
    events: total + fileRejections.length,
    accepted: 0,
    duplicates: 0,
    rejected: fileRejections.length,
    chunks: { total: chunkCount, sent, resumed: chunkCount - sent },
    state: options.statePath,
    rejections: [...fileRejections],
  };
  for (const record of done.values()) {
    summary.accepted += record.accepted;
    summary.duplicates += record.duplicates;
    summary.rejected += record.rejected;
    summary.rejections.push(...record.rejections);
  }
  summary.rejections.sort((a, b) => a.line - b.line);
  return summary;
}

interface BatchAnswer {
  summary: { received: number; accepted: number; duplicates: number; rejected: number };
  items: {
    line: number;
    outcome: 'accepted' | 'duplicate' | 'rejected';
    invoice?: { id: string };
    type?: string;
    errors?: { field?: string; rule?: string; message?: string; hint?: string }[];
  }[];
}

function chunkRecord(
  index: number,
  chunk: SourcedEvent[],
  answer: BatchAnswer,
  format: ImportFormat,
): ChunkRecord {
  const record: ChunkRecord = {
    chunk: index,
    events: chunk.length,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    invoices: [],
    rejections: [],
  };
  for (const item of answer.items) {
    // The body has one event a line, so the gateway's line k is the chunk's k-th event.
    const source = chunk[item.line - 1];
    if (!source) continue;
    if (item.outcome === 'rejected') {
      record.rejected += 1;
      const errors = item.errors?.length ? item.errors : [{ rule: item.type, message: 'rejected' }];
      for (const given of errors) {
        // The gateway names fields `line <k>.document…` by the line of the request body: the event's
        // own path is what is left; the line is the file's.
        const error = { ...given, field: given.field?.replace(/^line \d+\.?/, '') || undefined };
        const at =
          format === 'csv' && error.field ? locateCsvField(error.field, source) : { line: source.line };
        record.rejections.push({
          line: at.line,
          ...('column' in at && at.column ? { column: at.column } : {}),
          ...(error.field ? { field: error.field } : {}),
          rule: error.rule ?? 'rejected',
          message: error.message ?? '',
          ...(error.hint ? { hint: error.hint } : {}),
        });
      }
      continue;
    }
    if (item.outcome === 'accepted') record.accepted += 1;
    else record.duplicates += 1;
    if (item.invoice?.id) record.invoices.push([source.line, item.invoice.id]);
  }
  return record;
}
