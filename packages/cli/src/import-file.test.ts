import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Api } from './api.ts';
import { csvItemsOf, csvToEvents } from './csv-events.ts';
import { importFile, invoiceLinesOfState } from './import-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'sts-import-'));
const HEADER =
  'operation;vatNumber;issueDate;device;number;paymentDate;patientTaxCode;traceablePayment;expenseType;amount;vatNature';

/** A stand-in gateway: answers every batch with each line accepted (ids by line), and records the requests. */
function stubApi() {
  const requests: { body: string; key: string }[] = [];
  let next = 0;
  const api = {
    url: 'http://stub',
    async request(
      _method: string,
      _path: string,
      options: { body?: unknown; headers?: Record<string, string> },
    ) {
      const body = String(options.body);
      requests.push({ body, key: options.headers?.['idempotency-key'] ?? '' });
      const lines = body.split('\n').filter(Boolean);
      const items = lines.map((_, index) => ({
        line: index + 1,
        outcome: 'accepted',
        invoice: { id: `00000000-0000-4000-8000-${String(++next).padStart(12, '0')}` },
      }));
      return { status: 200, body: { summary: {}, items }, headers: new Headers() };
    },
  } as unknown as Api;
  return { api, requests };
}

describe('importFile, streaming', () => {
  it('reads a CSV as a stream into the same events and rejections as at once, in record order', async () => {
    const rows = [HEADER];
    for (let n = 0; n < 3000; n++) {
      rows.push(`insert;01234567897;2026-03-02;1;FT/${n};2026-03-02;opposed;si;SR;1.00;N4`);
      if (n % 7 === 0) rows.push(`insert;01234567897;2026-03-02;1;FT/${n};;;;AD;2.00;N4`);
      if (n % 500 === 0) rows.push('insert;01234567897;2026-03-02;1;;2026-03-02;opposed;si;SR;1.00;N4');
    }
    const text = `\uFEFF${rows.join('\r\n')}\r\n`;
    const atOnce = csvToEvents(text);
    // Chunks of 1,000 bytes: records and a BOM cut anywhere.
    const bytes = Buffer.from(text);
    const pieces = [];
    for (let at = 0; at < bytes.length; at += 1000) pieces.push(bytes.subarray(at, at + 1000));
    const events = [];
    const rejections = [];
    for await (const item of csvItemsOf(Readable.from(pieces), ';')) {
      if ('event' in item) events.push(item.event);
      else rejections.push(item.rejection);
    }
    expect(events).toEqual(atOnce.events);
    expect(rejections).toEqual(atOnce.rejections);
    expect(events).toHaveLength(3000);
    expect(rejections).toHaveLength(6);
  });

  it('sends an NDJSON file in chunks keyed by its SHA-256, by line, and a second run sends nothing', async () => {
    const file = join(dir, 'events.ndjson');
    const lines = [];
    for (let n = 1; n <= 2500; n++)
      lines.push(n % 1000 === 0 ? '' : JSON.stringify({ operation: 'insert', n }));
    writeFileSync(file, `${lines.join('\r\n')}\r\n`);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    const { api, requests } = stubApi();
    const statePath = `${file}.sts-import`;
    const started: number[] = [];
    const summary = await importFile(api, {
      file,
      chunkSize: 1000,
      statePath,
      onStart: (total) => started.push(total),
    });
    expect(started).toEqual([2498]);
    expect(summary).toMatchObject({
      events: 2498,
      accepted: 2498,
      chunks: { total: 3, sent: 3, resumed: 0 },
    });
    expect(requests.map((request) => request.key)).toEqual(
      [0, 1, 2].map((i) => `sts-import:${sha}:1000:${i}`),
    );
    expect(requests.map((request) => request.body.split('\n').filter(Boolean).length)).toEqual([
      1000, 1000, 498,
    ]);
    expect(requests[0]!.body.startsWith('{"operation":"insert","n":1}\n')).toBe(true);
    // Ids by file line: the blank lines 1000 and 2000 are skipped, not renumbered.
    const byLine = [...invoiceLinesOfState(statePath).values()];
    expect(byLine.slice(998, 1001)).toEqual([999, 1001, 1002]);
    expect(byLine.at(-1)).toBe(2500);

    const again = await importFile(api, { file, chunkSize: 1000, statePath });
    expect(again.chunks).toEqual({ total: 3, sent: 0, resumed: 3 });
    expect(requests).toHaveLength(3);
  });

  it('stops before sending a chunk of a file changed since it was hashed', async () => {
    const file = join(dir, 'changing.ndjson');
    const lines = [];
    for (let n = 1; n <= 30; n++) lines.push(JSON.stringify({ operation: 'insert', n }));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const { api, requests } = stubApi();
    const sent = api.request.bind(api);
    // The file is rewritten as the first chunk is answered: the second must not go under the old hash.
    (api as { request: typeof api.request }).request = (async (...args: Parameters<typeof api.request>) => {
      const answer = await sent(...args);
      appendFileSync(file, `${JSON.stringify({ operation: 'insert', n: 31 })}\n`);
      return answer;
    }) as typeof api.request;
    await expect(importFile(api, { file, chunkSize: 10, statePath: `${file}.sts-import` })).rejects.toThrow(
      /changed while it was imported/,
    );
    expect(requests).toHaveLength(1);
  });

  it('names a file it cannot read as bad usage', async () => {
    const { api } = stubApi();
    await expect(
      importFile(api, { file: join(dir, 'none.ndjson'), chunkSize: 10, statePath: join(dir, 's') }),
    ).rejects.toThrow(/none\.ndjson: ENOENT/);
    await expect(
      importFile(api, { file: dir, format: 'csv', chunkSize: 10, statePath: join(dir, 's') }),
    ).rejects.toThrow(/not a file/);
  });
});
