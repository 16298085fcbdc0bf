import { romeTime } from '@sts/shared';

/**
 * Uploads accepted by `inviaFileMtom`, from reception (`queued`, the zip kept until it is processed)
 * to their outcome (`processed`: stato 2, 3 or 5 with counts and one row per document message).
 */

export interface ErrorRow {
  vatNumber: string;
  issueDate: string;
  device: number;
  number: string;
  expenseType: string;
  code: string;
  text: string;
}

export interface UploadResult {
  status: 2 | 3 | 5;
  sent: number;
  accepted: number;
  warnings: number;
  errors: number;
  /** Why the whole file was rejected (stato 5), for the PDF receipt. */
  rejectionReason?: string;
  rows: ErrorRow[];
  processedAt: string;
}

export interface UploadOwner {
  key: string;
  taxCode?: string;
  office?: string;
}

export interface UploadRecord {
  protocol: string;
  username: string;
  fileName: string;
  fileSize: number;
  owner: UploadOwner;
  traceablePaymentExempt: boolean;
  /** Sent by a veterinarian: the veterinary deadlines apply (absent in state files written before). */
  veterinarian?: boolean;
  /** ISO timestamps. */
  receivedAt: string;
  dueAt: string;
  state: 'queued' | 'processed';
  /** The zip, base64, while queued. */
  zip?: string;
  result?: UploadResult;
}

export interface UploadStore {
  get(protocol: string): UploadRecord | undefined;
  put(record: UploadRecord): void;
  list(): UploadRecord[];
  /** A new 17-digit protocol: `99` + yyMMdd (test-environment style, §1.4) + 9-digit sequence. */
  nextProtocol(at: Date): string;
  sequence(): number;
  setSequence(value: number): void;
  clear(): void;
}

export function createUploadStore(options: {
  onChange?: (record: UploadRecord) => void;
  onSequence?: (value: number) => void;
}): UploadStore {
  const uploads = new Map<string, UploadRecord>();
  let sequence = 0;
  return {
    get: (protocol) => uploads.get(protocol),
    put(record) {
      uploads.set(record.protocol, record);
      options.onChange?.(record);
    },
    list: () => [...uploads.values()],
    nextProtocol(at) {
      sequence = (sequence + 1) % 1_000_000_000;
      options.onSequence?.(sequence);
      const t = romeTime(at);
      return `99${t.year.slice(2)}${t.month}${t.day}${String(sequence).padStart(9, '0')}`;
    },
    sequence: () => sequence,
    setSequence(value) {
      sequence = value;
    },
    clear() {
      uploads.clear();
      sequence = 0;
    },
  };
}
