import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

/**
 * Optional persistence as an NDJSON journal: every change is appended as one line holding the new
 * value of one key (last write wins), so replaying the file rebuilds the state. At start the journal is
 * replayed and then rewritten compactly (one line per live key), so it never grows without bound
 * across restarts. Writes are buffered by a stream: a crash may lose the last few milliseconds, a
 * normal close loses nothing. The file is readable by its owner only (0600): it holds no secret in
 * clear, but documents, uploads and password hashes.
 */

export type JournalRecord = { t: string; k?: string; v?: unknown };

export interface StateJournal {
  /** Records written so far, in order (empty for a new file). */
  read(): JournalRecord[];
  append(record: JournalRecord): void;
  /** Replaces the file with exactly these records, then keeps appending to it. */
  rewrite(records: Iterable<JournalRecord>): void;
  close(): Promise<void>;
}

export function openStateJournal(file: string): StateJournal {
  mkdirSync(path.dirname(file), { recursive: true });
  let stream: WriteStream | undefined;
  const open = () => {
    stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  };

  return {
    read() {
      if (!existsSync(file)) return [];
      const records: JournalRecord[] = [];
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          records.push(JSON.parse(line) as JournalRecord);
        } catch {
          // A line cut short by a crash: everything before it is intact.
        }
      }
      return records;
    },
    append(record) {
      if (!stream) open();
      stream!.write(`${JSON.stringify(record)}\n`);
    },
    rewrite(records) {
      const temporary = `${file}.tmp`;
      const lines: string[] = [];
      for (const record of records) lines.push(JSON.stringify(record));
      writeFileSync(temporary, lines.length > 0 ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
      chmodSync(temporary, 0o600);
      renameSync(temporary, file);
      open();
    },
    close() {
      const current = stream;
      stream = undefined;
      if (!current) return Promise.resolve();
      return new Promise((resolve, reject) => {
        current.end((error?: Error | null) => (error ? reject(error) : resolve()));
      });
    },
  };
}
