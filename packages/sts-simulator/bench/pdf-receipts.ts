/**
 * How long the simulator takes to write a `RicevutaPdf` receipt, so it is known not to be the
 * bottleneck of the receipt calls: N receipts like the real ones (one page, a rejection reason on
 * every other one), then N long documents (150 lines of 180 characters, wrapped: six pages).
 *
 *   node packages/sts-simulator/bench/pdf-receipts.ts [receipts]
 */
import { receiptPdf } from '../src/receipts/pdf-receipt-handler.ts';
import { writePdf } from '../src/receipts/pdf-writer.ts';
import type { UploadRecord } from '../src/uploads/upload-store.ts';

const count = Number(process.argv[2] ?? 500);

const record = (index: number): UploadRecord => ({
  protocol: `99261122${String(index).padStart(9, '0')}`,
  username: 'PROVAX00X00X000Y',
  fileName: `invio-${index}.zip`,
  fileSize: 4_999_151,
  owner: { key: 'PROVAX00X00X000Y', taxCode: 'PROVAX00X00X000Y' },
  traceablePaymentExempt: false,
  receivedAt: '2026-11-22T10:00:00Z',
  dueAt: '2026-11-22T10:00:05Z',
  state: 'processed',
  result: {
    status: index % 2 === 0 ? 2 : 5,
    sent: 31_910,
    accepted: index % 2 === 0 ? 31_900 : 0,
    warnings: 10,
    errors: 0,
    ...(index % 2 === 0
      ? {}
      : { rejectionReason: 'File non conforme allo schema di validazione: cvc-complex-type.2.4.b' }),
    rows: [],
    processedAt: '2026-11-22T10:00:07Z',
  },
});

function measure(label: string, write: (index: number) => Buffer) {
  write(0); // warm-up: module and font loading
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (let index = 1; index <= count; index++) bytes += write(index).length;
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(
    `${label}: ${count} in ${ms.toFixed(0)} ms, ${(ms / count).toFixed(3)} ms each, ` +
      `${Math.round((count * 1000) / ms)}/s, ${Math.round(bytes / count)} B average`,
  );
}

const createdAt = new Date('2026-11-22T10:00:08Z');
measure('receipt (1 page)', (index) => receiptPdf(record(index), createdAt));
const long = Array.from({ length: 150 }, (_, index) => ({
  text: `Riga ${index}: ${'documento di spesa sanitaria '.repeat(6)}`,
}));
measure('long document (150 wrapped lines)', () => writePdf({ title: 'lungo', lines: long, createdAt }));
