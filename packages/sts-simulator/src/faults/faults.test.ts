import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TestDocument } from '../../test-support/envelopes.ts';
import { fileFor, sync, upload, waitForOutcome } from '../../test-support/flows.ts';
import { findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import { MEDICO, PATH, PATIENTS, PSICOLOGO } from '../../test-support/kit-actors.ts';
import { soapuiSample } from '../../test-support/kit-samples.ts';

let h: Harness;
let sequence = 0;
const document = (): TestDocument => ({
  vatNumber: MEDICO.vatNumber,
  issueDate: '2025-07-01',
  number: `FI-${++sequence}`,
  patient: h.cf(PATIENTS[0]),
});
const counter = async (doc: TestDocument) =>
  (
    await h.admin(
      'GET',
      `/counters/document?vatNumber=${doc.vatNumber}&issueDate=${doc.issueDate}&device=1&number=${encodeURIComponent(doc.number)}`,
    )
  ).json as { stored: number; received: Record<string, number> };
const addFault = async (spec: Record<string, unknown>) => {
  const answer = await h.admin('POST', '/faults', spec);
  expect(answer.status).toBe(201);
  return answer.json as { id: string };
};

beforeAll(async () => {
  h = await startSimulator();
});
afterAll(() => h.close());
beforeEach(async () => {
  await h.admin('DELETE', '/faults');
});

describe('injected faults', () => {
  it('latency delays the answer for the given count of calls', async () => {
    await addFault({ kind: 'latency', latencyMs: 1_000, operation: 'Inserimento', count: 1 });
    const before = h.sim.calls.total('insert');
    let answered = false;
    const call = sync(h, MEDICO, 'insert', document()).then((answer) => {
      answered = true;
      return answer;
    });
    // The call has arrived (it is counted as its latency starts) but is held, not answered.
    await vi.waitFor(() => expect(h.sim.calls.total('insert')).toBe(before + 1));
    expect(answered).toBe(false);
    expect((await call).outcome).toBe('0');
    // Used up: the fault is gone.
    expect((await h.admin('GET', '/faults')).json).toEqual([]);
  });

  it('app.close() drops a call held by a latency fault instead of waiting it out', async () => {
    const own = await startSimulator();
    await own.admin('POST', '/faults', { kind: 'latency', latencyMs: 600_000, operation: 'insert' });
    const doc = { ...document(), patient: own.cf(PATIENTS[0]) };
    const call = sync(own, MEDICO, 'insert', doc).then(
      () => 'answered',
      () => 'dropped',
    );
    // The call is counted just before its latency starts.
    await vi.waitFor(() => expect(own.sim.calls.total('insert')).toBe(1));
    await own.close();
    expect(await call).toBe('dropped');
    expect(own.sim.archive.size()).toBe(0);
  });

  it('HTTP 500 answers a SOAP Server fault and does no work', async () => {
    await addFault({ kind: 'http-500', operation: 'insert', count: 1 });
    const doc = document();
    const failed = await sync(h, MEDICO, 'insert', doc);
    expect(failed.status).toBe(500);
    expect(failed.fault?.code).toBe('env:Server');
    expect(
      (await h.admin('GET', '/counters/document?vatNumber=x&issueDate=x&device=1&number=x')).status,
    ).toBe(404);
    expect((await sync(h, MEDICO, 'insert', doc)).outcome).toBe('0');
    expect(await counter(doc)).toMatchObject({ stored: 1, received: { insert: 1 } });
  });

  it('HTTP 503 answers a bare proxy page', async () => {
    await addFault({ kind: 'http-503', count: 1 });
    const answer = await h.post(PATH.singleDocument, soapuiSample('Medico__Cancellazione__Medico__0'), {
      user: MEDICO.user,
      password: MEDICO.password,
    });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('a connection reset drops the connection before any work', async () => {
    await addFault({ kind: 'reset', operation: 'insert', user: MEDICO.user, count: 1 });
    const doc = document();
    await expect(sync(h, MEDICO, 'insert', doc)).rejects.toThrow();
    // Nothing was stored: the retry is the first insertion.
    expect((await sync(h, MEDICO, 'insert', doc)).outcome).toBe('0');
    expect(await counter(doc)).toMatchObject({ stored: 1, received: { insert: 1 } });
  });

  it('a lost answer stores the document, then drops the connection: the retry finds S017', async () => {
    await addFault({ kind: 'lost-answer', operation: 'insert', count: 1 });
    const doc = document();
    await expect(sync(h, MEDICO, 'insert', doc)).rejects.toThrow();
    expect(await counter(doc)).toMatchObject({ stored: 1, received: { insert: 1 } });
    const retry = await sync(h, MEDICO, 'insert', doc);
    expect(retry.codes).toEqual(['S017']);
    expect(await counter(doc)).toMatchObject({ stored: 1, received: { insert: 2 } });
  });

  it('a lost answer on an upload still accepts and processes the file', async () => {
    await addFault({ kind: 'lost-answer', operation: 'inviaFileMtom', count: 1 });
    const doc = document();
    await expect(upload(h, MEDICO, { zip: fileFor(h, MEDICO, [doc]) })).rejects.toThrow();
    await h.admin('POST', '/uploads/process');
    expect(await counter(doc)).toMatchObject({ stored: 1 });
    const uploads = (await h.admin('GET', '/uploads')).json as { protocol: string; status: number }[];
    expect(uploads.at(-1)?.status).toBe(2);
  });

  it('faults can be limited to one user', async () => {
    await addFault({ kind: 'http-500', user: PSICOLOGO.user });
    expect((await sync(h, MEDICO, 'insert', document())).status).toBe(200);
    expect(
      (await sync(h, PSICOLOGO, 'insert', { ...document(), vatNumber: PSICOLOGO.vatNumber })).status,
    ).toBe(500);
  });

  it('validates fault specs and names the bad field', async () => {
    const answer = await h.admin('POST', '/faults', { kind: 'latency', operation: 'nonsense' });
    expect(answer.status).toBe(400);
    const text = JSON.stringify(answer.json);
    expect(text).toContain('latencyMs');
    expect(text).toContain('operation');
  });

  it('removes one fault by id', async () => {
    const fault = await addFault({ kind: 'http-500' });
    expect((await h.admin('DELETE', `/faults/${fault.id}`)).status).toBe(204);
    expect((await sync(h, MEDICO, 'insert', document())).status).toBe(200);
    expect((await h.admin('DELETE', '/faults/f999')).status).toBe(404);
  });
});

describe('probability and throttling (deterministic clock and dice)', () => {
  let rolls: number[] = [];
  let clocked: Harness;
  beforeAll(async () => {
    clocked = await startSimulator({
      clock: () => new Date('2026-05-05T10:00:00Z'),
      random: () => rolls.shift() ?? 0.99,
    });
  });
  afterAll(() => clocked.close());

  it('fires a fault with the given probability', async () => {
    await clocked.admin('POST', '/faults', { kind: 'http-500', probability: 0.5 });
    rolls = [0.7, 0.2];
    const doc = { ...document(), patient: clocked.cf(PATIENTS[0]) };
    expect((await sync(clocked, MEDICO, 'insert', doc)).status).toBe(200);
    expect((await sync(clocked, MEDICO, 'update', doc)).status).toBe(500);
    await clocked.admin('DELETE', '/faults');
  });

  it('throttles beyond N calls per second per user, with 429 or 503 and Retry-After', async () => {
    await clocked.admin('POST', '/faults', { kind: 'throttle', ratePerSecond: 2 });
    await clocked.admin('POST', '/faults', {
      kind: 'throttle',
      ratePerSecond: 1,
      status: 503,
      user: PSICOLOGO.user,
    });
    const call = (actor: typeof MEDICO) =>
      clocked.post(PATH.singleDocument, soapuiSample('Medico__Cancellazione__Medico__0'), {
        user: actor.user,
        password: actor.password,
      });
    // The clock does not move: no token comes back.
    const medico = await Promise.all([call(MEDICO), call(MEDICO), call(MEDICO), call(MEDICO)]);
    expect(medico.map((answer) => answer.status).sort()).toEqual([200, 200, 429, 429]);
    expect(medico.find((answer) => answer.status === 429)?.headers.get('retry-after')).toBe('1');
    const psicologo = await Promise.all([call(PSICOLOGO), call(PSICOLOGO)]);
    expect(psicologo.map((answer) => answer.status).sort()).toEqual([200, 503]);
  });
});

describe('counters and reset', () => {
  it('counts calls per operation and user, and documents per id by either path', async () => {
    const doc = document();
    await sync(h, MEDICO, 'insert', doc);
    await sync(h, MEDICO, 'insert', doc);
    const answer = await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [doc, { ...doc, operation: 'V' }]) });
    await waitForOutcome(h, MEDICO, findText(answer.body, 'protocollo')!);
    expect(await counter(doc)).toEqual({
      stored: 1,
      received: { insert: 3, update: 1, refund: 0, cancel: 0 },
    });
    const counters = (await h.admin('GET', '/counters')).json as {
      calls: Record<string, Record<string, number>>;
      documents: Record<string, unknown>;
    };
    expect(counters.calls.insert?.[MEDICO.user]).toBeGreaterThanOrEqual(2);
    expect(counters.calls.upload?.[MEDICO.user]).toBeGreaterThanOrEqual(1);
    expect(counters.calls.outcome?.[MEDICO.user]).toBeGreaterThanOrEqual(1);
    expect(counters.documents[`${doc.vatNumber}/${doc.issueDate}/1/${doc.number}`]).toBeDefined();
  });

  it('keeps the most calls of each user under way at once', async () => {
    await h.admin('POST', '/reset');
    await addFault({ kind: 'latency', latencyMs: 300, operation: 'Inserimento' });
    // Two at once for MEDICO, one after the other for PSICOLOGO.
    await Promise.all([sync(h, MEDICO, 'insert', document()), sync(h, MEDICO, 'insert', document())]);
    const psicologo = (): TestDocument => ({ ...document(), vatNumber: PSICOLOGO.vatNumber });
    await sync(h, PSICOLOGO, 'insert', psicologo());
    await sync(h, PSICOLOGO, 'insert', psicologo());
    const concurrency = (await h.admin('GET', '/counters/concurrency')).json;
    expect(concurrency).toEqual({
      [MEDICO.user]: { inFlight: 0, max: 2 },
      [PSICOLOGO.user]: { inFlight: 0, max: 1 },
    });
    await h.admin('POST', '/reset');
    expect((await h.admin('GET', '/counters/concurrency')).json).toEqual({});
  });

  it('POST /__admin/reset clears documents, uploads, counters and faults', async () => {
    const doc = document();
    await sync(h, MEDICO, 'insert', doc);
    await addFault({ kind: 'latency', latencyMs: 1 });
    expect((await h.admin('POST', '/reset')).json).toEqual({ reset: true });
    expect((await h.admin('GET', '/counters')).json).toEqual({ calls: {}, documents: {} });
    expect((await h.admin('GET', '/faults')).json).toEqual([]);
    expect((await h.admin('GET', '/uploads')).json).toEqual([]);
    expect((await sync(h, MEDICO, 'insert', doc)).outcome).toBe('0');
  });
});
