import type { Clock } from '@sts/shared';
import {
  type CitizenReport,
  type CitizenReportStore,
  createCitizenReportStore,
} from '../citizen-reports/citizen-report-store.ts';
import {
  createDocumentArchive,
  type DocumentArchive,
  type DocumentCounter,
  type StoredDocument,
} from '../documents/document-archive.ts';
import { createUploadStore, type UploadRecord, type UploadStore } from '../uploads/upload-store.ts';
import type { SimulatorUser, SimulatorUserInput } from '../users/simulator-user.ts';
import { createUserDirectory, type UserDirectory, type UserLoginState } from '../users/user-directory.ts';
import type { JournalRecord, StateJournal } from './state-journal.ts';

/**
 * Everything the simulator remembers: the document archive and its counters, uploads and the protocol
 * sequence, login states and accounts added through the admin API, the citizen reports seeded. In
 * memory; with a journal, every change is also appended to it and `restore` rebuilds the state from
 * it at start. The journal holds no password or pincode in clear: those set through the admin API
 * are salted scrypt hashes.
 */

export interface SimulatorState {
  archive: DocumentArchive;
  uploads: UploadStore;
  users: UserDirectory;
  citizenReports: CitizenReportStore;
  /** Replays the journal (if any) and compacts it. Call once, before serving. */
  restore(): void;
  /** Forgets everything but the configured accounts. */
  reset(): void;
  close(): Promise<void>;
}

type StateRecord =
  | { t: 'doc'; k: string; v: StoredDocument }
  | { t: 'counter'; k: string; v: DocumentCounter }
  | { t: 'upload'; k: string; v: UploadRecord }
  | { t: 'seq'; v: number }
  | { t: 'login'; k: string; v: UserLoginState }
  | { t: 'account'; k: string; v: SimulatorUser }
  | { t: 'citizen-report'; k: string; v: CitizenReport | null }
  | { t: 'reset' };

export function createSimulatorState(options: {
  journal: StateJournal | undefined;
  users: SimulatorUserInput[];
  lockoutThreshold: number;
  clock: Clock;
}): SimulatorState {
  const { journal } = options;
  let replaying = false;
  const write = (record: StateRecord) => {
    if (journal && !replaying) journal.append(record as JournalRecord);
  };
  const addedAccounts = new Map<string, SimulatorUser>();

  const archive = createDocumentArchive({
    onDocument: (k, v) => write({ t: 'doc', k, v }),
    onCounter: (k, v) => write({ t: 'counter', k, v }),
  });
  const uploads = createUploadStore({
    onChange: (v) => write({ t: 'upload', k: v.protocol, v }),
    onSequence: (v) => write({ t: 'seq', v }),
  });
  const users = createUserDirectory({
    users: options.users,
    lockoutThreshold: options.lockoutThreshold,
    clock: options.clock,
    onChange: (k, v) => write({ t: 'login', k, v }),
    onUpsert: (v) => {
      addedAccounts.set(v.username, v);
      write({ t: 'account', k: v.username, v });
    },
  });

  const citizenReports = createCitizenReportStore({
    onChange: (k, v) => write({ t: 'citizen-report', k, v: v ?? null }),
  });

  const clearAll = () => {
    archive.clear();
    citizenReports.clear();
    uploads.clear();
    users.reset();
    addedAccounts.clear();
  };

  function* snapshot(): Generator<StateRecord> {
    for (const v of addedAccounts.values()) yield { t: 'account', k: v.username, v };
    for (const [k, v] of Object.entries(users.snapshot())) yield { t: 'login', k, v };
    yield { t: 'seq', v: uploads.sequence() };
    for (const [k, v] of archive.entries()) yield { t: 'doc', k, v };
    for (const [k, v] of Object.entries(archive.counters())) yield { t: 'counter', k, v };
    for (const v of uploads.list()) yield { t: 'upload', k: v.protocol, v };
    for (const v of citizenReports.list()) yield { t: 'citizen-report', k: v.id, v };
  }

  return {
    archive,
    uploads,
    users,
    citizenReports,
    restore() {
      if (!journal) return;
      replaying = true;
      try {
        const logins: Record<string, UserLoginState> = {};
        for (const raw of journal.read()) {
          const record = raw as StateRecord;
          switch (record.t) {
            case 'reset':
              clearAll();
              for (const key of Object.keys(logins)) delete logins[key];
              break;
            case 'doc':
              archive.put(record.k, record.v);
              break;
            case 'counter':
              archive.putCounter(record.k, record.v);
              break;
            case 'upload':
              uploads.put(record.v);
              break;
            case 'seq':
              uploads.setSequence(record.v);
              break;
            case 'citizen-report':
              citizenReports.put(record.k, record.v ?? undefined);
              break;
            case 'login':
              logins[record.k] = record.v;
              break;
            case 'account':
              // Hashed secrets; a clear one (a file written before they were hashed) is hashed
              // here, and the rewrite below leaves none in the file.
              users.restoreAccount(record.v);
              break;
          }
        }
        users.restore(logins);
      } finally {
        replaying = false;
      }
      journal.rewrite(snapshot() as Iterable<JournalRecord>);
    },
    reset() {
      clearAll();
      write({ t: 'reset' });
    },
    close: () => journal?.close() ?? Promise.resolve(),
  };
}
