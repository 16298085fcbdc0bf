import type { DocumentId, ExpenseDocument, ExpenseType, Operation } from '@sts/sts';
import { type DocumentMessage, MESSAGES, SIMULATOR_MESSAGES } from './document-messages.ts';

/**
 * What the STS holds for each owner: documents keyed by their fiscal id (VAT number, issue date,
 * device, number), with the rules both the file path and the single-document path obey
 * (docs/protocol.md §3.2): an insert of a present document is S017; updates and cancellations need
 * the document; a refund needs its original; a cancelled document can be inserted again; a document
 * with a refund cannot be varied or cancelled until the refund is cancelled. No patient codice fiscale
 * is kept: only whether the patient opposed.
 */

export interface StoredLine {
  expenseType: ExpenseType;
  amount: string;
}

export interface StoredDocument {
  owner: string;
  id: DocumentId;
  status: 'active' | 'cancelled';
  paymentDate: string;
  documentType?: 'invoice' | 'receipt';
  patientOpposed: boolean;
  lines: StoredLine[];
  /** Key (within the owner) of the original, for refund documents. */
  refundOf?: string;
  /** Keys of the active refund documents of this one. */
  refunds: string[];
  protocol: string;
  /** Name of the zip, or `SERVIZIO SINCRONO`. */
  fileName: string;
  /** ISO timestamp of the last accepted operation. */
  receivedAt: string;
  lastOperation: Operation;
}

export interface DocumentCounter {
  /** Accepted operations that stored a document (inserts, refund documents, re-inserts). */
  stored: number;
  /** Operations received for this id, accepted or not. */
  received: Record<Operation, number>;
}

export interface OperationSource {
  protocol: string;
  fileName: string;
  receivedAt: string;
}

export interface ArchiveResult {
  accepted: boolean;
  messages: DocumentMessage[];
}

export interface DocumentArchive {
  /** Counts an operation that arrived for this id, whatever becomes of it. */
  noteReceived(id: DocumentId, operation: Operation): void;
  apply(owner: string, document: ExpenseDocument, source: OperationSource): ArchiveResult;
  find(owner: string, id: DocumentId): StoredDocument | undefined;
  /** By the key `documentKey` makes (as kept in `refunds`/`refundOf`). */
  findByKey(owner: string, key: string): StoredDocument | undefined;
  /** Documents of an owner, in insertion order. */
  listOwner(owner: string): StoredDocument[];
  counter(id: DocumentId): DocumentCounter | undefined;
  counters(): Record<string, DocumentCounter>;
  size(): number;
  /** Every stored document with its archive key (for persistence snapshots). */
  entries(): IterableIterator<[string, StoredDocument]>;
  clear(): void;
  /** Restoring persisted state. */
  put(key: string, document: StoredDocument | undefined): void;
  putCounter(id: string, counter: DocumentCounter): void;
}

export const documentKey = (id: DocumentId): string =>
  `${id.vatNumber}/${id.issueDate}/${id.device}/${id.number}`;
const archiveKey = (owner: string, key: string) => `${owner}#${key}`;

const emptyCounter = (): DocumentCounter => ({
  stored: 0,
  received: { insert: 0, update: 0, refund: 0, cancel: 0 },
});

export function createDocumentArchive(options: {
  onDocument?: (key: string, document: StoredDocument) => void;
  onCounter?: (id: string, counter: DocumentCounter) => void;
}): DocumentArchive {
  const documents = new Map<string, StoredDocument>();
  const byOwner = new Map<string, Set<string>>();
  const counters = new Map<string, DocumentCounter>();

  const store = (key: string, document: StoredDocument) => {
    documents.set(key, document);
    let keys = byOwner.get(document.owner);
    if (!keys) {
      keys = new Set();
      byOwner.set(document.owner, keys);
    }
    keys.add(key);
    options.onDocument?.(key, document);
  };
  const counterOf = (id: DocumentId) => {
    const key = documentKey(id);
    let counter = counters.get(key);
    if (!counter) {
      counter = emptyCounter();
      counters.set(key, counter);
    }
    return { key, counter };
  };
  const countStored = (id: DocumentId) => {
    const { key, counter } = counterOf(id);
    counter.stored++;
    options.onCounter?.(key, counter);
  };

  const snapshotOf = (
    owner: string,
    document: ExpenseDocument,
    source: OperationSource,
    previous?: StoredDocument,
  ): StoredDocument => ({
    owner,
    id: document.id,
    status: 'active',
    paymentDate: document.paymentDate,
    ...(document.documentType ? { documentType: document.documentType } : {}),
    patientOpposed: document.patient.kind === 'opposed',
    lines: document.lines.map((line) => ({ expenseType: line.expenseType, amount: line.amount })),
    refunds: previous?.refunds ?? [],
    protocol: source.protocol,
    fileName: source.fileName,
    receivedAt: source.receivedAt,
    lastOperation: document.operation,
  });

  const reject = (message: DocumentMessage): ArchiveResult => ({ accepted: false, messages: [message] });
  const accept = (messages: DocumentMessage[] = []): ArchiveResult => ({ accepted: true, messages });

  return {
    noteReceived(id, operation) {
      const { key, counter } = counterOf(id);
      counter.received[operation]++;
      options.onCounter?.(key, counter);
    },
    apply(owner, document, source) {
      const key = documentKey(document.id);
      const fullKey = archiveKey(owner, key);
      const existing = documents.get(fullKey);

      switch (document.operation) {
        case 'insert': {
          if (existing?.status === 'active') return reject(MESSAGES.alreadyPresent);
          store(fullKey, snapshotOf(owner, document, source, undefined));
          countStored(document.id);
          return accept();
        }
        case 'update': {
          if (existing?.status !== 'active') return reject(SIMULATOR_MESSAGES.updateUnknown);
          if (existing.refunds.length > 0) return reject(SIMULATOR_MESSAGES.linkedToRefund);
          store(fullKey, {
            ...snapshotOf(owner, document, source, existing),
            ...(existing.refundOf ? { refundOf: existing.refundOf } : {}),
          });
          return accept();
        }
        case 'refund': {
          const original = document.refundedDocumentId;
          const originalKey = original ? documentKey(original) : '';
          const originalDocument = documents.get(archiveKey(owner, originalKey));
          if (originalDocument?.status !== 'active') return reject(SIMULATOR_MESSAGES.refundOriginalUnknown);
          if (existing?.status === 'active') return reject(MESSAGES.alreadyPresent);
          store(fullKey, { ...snapshotOf(owner, document, source, undefined), refundOf: originalKey });
          store(archiveKey(owner, originalKey), {
            ...originalDocument,
            refunds: [...originalDocument.refunds.filter((refund) => refund !== key), key],
          });
          countStored(document.id);
          return accept();
        }
        case 'cancel': {
          if (!existing) return reject(SIMULATOR_MESSAGES.cancelUnknown);
          if (existing.status === 'cancelled') return accept([MESSAGES.alreadyCancelled]);
          if (existing.refunds.length > 0) return reject(SIMULATOR_MESSAGES.linkedToRefund);
          store(fullKey, {
            ...existing,
            status: 'cancelled',
            protocol: source.protocol,
            fileName: source.fileName,
            receivedAt: source.receivedAt,
            lastOperation: 'cancel',
          });
          if (existing.refundOf) {
            const originalFullKey = archiveKey(owner, existing.refundOf);
            const original = documents.get(originalFullKey);
            if (original)
              store(originalFullKey, {
                ...original,
                refunds: original.refunds.filter((refund) => refund !== key),
              });
          }
          return accept();
        }
      }
    },
    find: (owner, id) => documents.get(archiveKey(owner, documentKey(id))),
    findByKey: (owner, key) => documents.get(archiveKey(owner, key)),
    listOwner(owner) {
      const keys = byOwner.get(owner);
      return keys ? [...keys].map((key) => documents.get(key)!).filter(Boolean) : [];
    },
    counter: (id) => counters.get(documentKey(id)),
    counters: () =>
      Object.fromEntries([...counters].map(([key, counter]) => [key, structuredClone(counter)])),
    size: () => documents.size,
    entries: () => documents.entries(),
    clear() {
      documents.clear();
      byOwner.clear();
      counters.clear();
    },
    put(key, document) {
      if (document) {
        documents.set(key, document);
        let keys = byOwner.get(document.owner);
        if (!keys) {
          keys = new Set();
          byOwner.set(document.owner, keys);
        }
        keys.add(key);
      } else {
        documents.delete(key);
      }
    },
    putCounter(id, counter) {
      counters.set(id, counter);
    },
  };
}
