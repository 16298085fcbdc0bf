import { gatewayAccounts, invoiceEvent, vatNumber } from '@sts/gateway/testing';
import { createPool, type Pool } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCredential as createTestCredential,
  type GatewayApi,
  gatewayApi,
  simulatorAdmin,
} from '../support/clients.ts';
import { type Stack, startStack } from '../support/stack.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * Credentials and pacing end to end (issue 12, acceptance), on the four parts as separate processes
 * (simulator, credentials, gateway, submitter; a second submitter replica for the pacing test) on
 * real Postgres and Redis. Each test has tenants, STS users and VAT numbers of its own.
 */

interface Doctor {
  username: string;
  password: string;
  pincode: string;
  vat: string;
}
const doctor = (prefix: string, vatDigits: string, pincode: string): Doctor => ({
  username: `${prefix}MRA80A01H501U`,
  password: `${prefix}.Pw.1`,
  pincode,
  vat: vatNumber(vatDigits),
});
/** Test 1: the password changes at the STS behind our back. */
const WRONG = doctor('WRG', '0111111111', '7310486301');
const WRONG_BATCH = doctor('WRB', '0777777777', '7310486307');
/** Test 2: one call in flight (paced), and a control allowed three. */
const PACED = doctor('PCD', '0222222222', '7310486302');
const CONTROL = doctor('CTL', '0333333333', '7310486303');
/** Test 3: a large batch backlog; a realtime and a batch clinic with one document each. */
const BACKLOG = doctor('BKL', '0444444444', '7310486304');
const SINGLE_REALTIME = doctor('SRT', '0555555555', '7310486305');
const SINGLE_BATCH = doctor('SBT', '0666666666', '7310486306');
const DOCTORS = [WRONG, WRONG_BATCH, PACED, CONTROL, BACKLOG, SINGLE_REALTIME, SINGLE_BATCH];

const FINAL = ['accepted', 'accepted_with_warnings', 'rejected'];
const OPEN = 'received,queued,submitting,submitted,uncertain,blocked';
/** The stack's flush interval (tests/support/stack.ts, SUBMITTER_FLUSH_INTERVAL_MS). */
const FLUSH_INTERVAL_MS = 500;
/** How many documents tenant A's backlog holds (test 3). */
const BACKLOG_DOCUMENTS = Number(process.env.PIPELINE_BACKLOG_DOCUMENTS ?? 2000);
const FAST_PACING = { maxInFlight: 1, requestsPerMinute: 600 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('credentials and pacing end to end', () => {
  let stack: Stack;
  let pool: Pool;

  beforeAll(async () => {
    stack = await startStack({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      simulatorUsers: DOCTORS.map(({ username, password, pincode, vat }) => ({
        username,
        password,
        pincode,
        kind: 'professional',
        owner: { vatNumber: vat },
      })),
    });
    pool = createPool({ url: database.url, applicationName: 'pipeline-credentials-test' });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
  });

  /** A tenant of its own, and the gateway's public API with its key. */
  const tenant = async (name: string) => {
    const key = (await gatewayAccounts(pool).tenants.create({ name })).firstKey.key;
    const api = gatewayApi(stack.urls.gateway, key);
    return { api };
  };
  type Api = GatewayApi;

  const simulator = simulatorAdmin(() => stack);
  const admin = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await simulator(method, path, body);
    expect(response.ok, `${method} /__admin${path}: ${response.text}`).toBe(true);
    return response.json;
  };
  /** Every SOAP call the simulator received from `username`, any operation. */
  const callsOf = async (username: string) => {
    const { calls } = (await admin('GET', '/counters')) as { calls: Record<string, Record<string, number>> };
    return Object.values(calls).reduce((sum, byUser) => sum + (byUser[username] ?? 0), 0);
  };
  const storedCount = async (vat: string, n: number) => {
    const id = invoiceEvent(n).document.id;
    const counter = await admin(
      'GET',
      `/counters/document?vatNumber=${vat}&issueDate=${id.issueDate}&device=${id.device}&number=${encodeURIComponent(id.number)}`,
    );
    return counter.stored as number;
  };

  const createCredential = (
    api: Api,
    who: Doctor,
    sendingMode: 'batch' | 'realtime',
    pacing: { maxInFlight: number; requestsPerMinute: number } = FAST_PACING,
  ) =>
    createTestCredential(api, {
      doctor: who,
      vatNumber: who.vat,
      sendingMode,
      label: `Dr ${who.username}`,
      extra: { pacing },
    });

  /** Posts inserts `numbers` of `vat` as NDJSON; answers the invoice ids, in order. */
  const post = async (api: Api, vat: string, numbers: readonly number[]) => {
    const lines = numbers.map((n) => {
      const base = invoiceEvent(n);
      return JSON.stringify({
        operation: 'insert',
        document: { ...base.document, id: { ...base.document.id, vatNumber: vat } },
      });
    });
    const sent = await api('POST', '/v1/invoices/batch', `${lines.join('\n')}\n`, 'application/x-ndjson');
    expect(sent.status, sent.text.slice(0, 2000)).toBe(200);
    expect(sent.json.summary.rejected, sent.text.slice(0, 2000)).toBe(0);
    return (sent.json.items as { line: number; invoice: { id: string } }[])
      .sort((a, b) => a.line - b.line)
      .map((item) => item.invoice.id);
  };

  const invoice = async (api: Api, id: string) => {
    const answer = await api('GET', `/v1/invoices/${id}`);
    expect(answer.status, answer.text).toBe(200);
    return answer.json as {
      status: string;
      receivedAt: string;
      statusAt: string;
      protocol: string | null;
      history: { status: string; at: string }[];
    };
  };

  /** Polls until every invoice has one of `statuses`; fails with the submitter's output otherwise. */
  const waitForStatuses = async (api: Api, ids: readonly string[], statuses: string[], timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(ids);
    let last = '';
    while (Date.now() < deadline) {
      for (const id of [...pending]) {
        const found = await invoice(api, id);
        if (statuses.includes(found.status)) pending.delete(id);
        else last = `${id}: ${found.status}`;
      }
      if (pending.size === 0) return;
      await sleep(200);
    }
    throw new Error(
      `${pending.size} invoice(s) not ${statuses.join('/')} after ${timeoutMs} ms (last: ${last})\n` +
        stack.output('submitter').slice(-3000),
    );
  };

  /** Every invoice of the tenant, through the list (pages of 500). */
  const listAll = async (api: Api, query = '') => {
    const items: {
      id: string;
      status: string;
      statusAt: string;
      receivedAt: string;
      protocol: string | null;
    }[] = [];
    let cursor: string | null = null;
    do {
      const page = await api(
        'GET',
        `/v1/invoices?limit=500${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status, page.text).toBe(200);
      items.push(...page.json.items);
      cursor = page.json.next;
    } while (cursor);
    return items;
  };

  it.each([
    { mode: 'realtime' as const, who: WRONG, numbers: [101, 102, 103, 104, 105, 106] },
    { mode: 'batch' as const, who: WRONG_BATCH, numbers: [111, 112, 113, 114, 115, 116] },
  ])(
    'a password the STS refuses ($mode): one failed login, documents blocked, credential invalid; fixed, every document goes once',
    async ({ mode, who, numbers }) => {
      const { api } = await tenant(`Clinica Password Cambiata ${mode}`);
      const credentialId = await createCredential(api, who, mode);
      // The credential's test logged in with the right password.
      const callsBefore = await callsOf(who.username);

      // The password changes at the STS (the doctor changed it on the portal), not in our vault.
      const newPassword = `${who.username.slice(0, 3)}.Pw.2`;
      await admin('POST', `/users/${who.username}/password`, { password: newPassword });
      expect((await admin('GET', `/users/${who.username}`)).failedAttempts).toBe(0);

      const ids = await post(api, who.vat, numbers);
      await waitForStatuses(api, ids, ['blocked'], 60_000);

      const credential = await api('GET', `/v1/credentials/${credentialId}`);
      expect(credential.status, credential.text).toBe(200);
      expect(credential.json.credential.status, credential.text).toBe('invalid');
      expect(credential.json.credential.usable).toBe(false);
      expect(credential.json.credential.loginBudget.attemptsUsed).toBe(1);
      // Exactly one login with the old password reached the STS, and nothing more is tried: the
      // sweeper's rounds (every 500 ms) find the credential unusable without calling the STS.
      await sleep(2_000);
      expect(await callsOf(who.username)).toBe(callsBefore + 1);
      const user = await admin('GET', `/users/${who.username}`);
      expect(user.failedAttempts).toBe(1);
      expect(user.locked).toBe(false);
      for (const id of ids) expect((await invoice(api, id)).status).toBe('blocked');
      for (const n of numbers) {
        const id = invoiceEvent(n).document.id;
        const counter = await simulator(
          'GET',
          `/counters/document?vatNumber=${who.vat}&issueDate=${id.issueDate}&device=1&number=${encodeURIComponent(id.number)}`,
        );
        // Never stored: the one call that went out was refused at the login.
        if (counter.status === 200) expect((counter.json as { stored: number }).stored).toBe(0);
        else expect(counter.status).toBe(404);
      }

      // The clinic enters the new password, tested at once: the documents resume by themselves.
      const fixed = await api('PATCH', `/v1/credentials/${credentialId}?test=true`, {
        password: newPassword,
      });
      expect(fixed.status, fixed.text).toBe(200);
      expect(fixed.json.test?.outcome, fixed.text).toBe('valid');
      await waitForStatuses(api, ids, FINAL, 60_000);
      for (const id of ids) expect((await invoice(api, id)).status).toBe('accepted');
      for (const n of numbers) expect(await storedCount(who.vat, n), `FT2026/${n}`).toBe(1);
      const after = await admin('GET', `/users/${who.username}`);
      expect(after.failedAttempts).toBe(0);
      const finalCredential = await api('GET', `/v1/credentials/${credentialId}`);
      expect(finalCredential.json.credential.status).toBe('valid');
      expect(finalCredential.json.credential.loginBudget.attemptsUsed).toBe(0);
    },
    150_000,
  );

  it('two submitter replicas never have two calls of one credential at the STS at once', async () => {
    const replica = await stack.addSubmitter();
    try {
      const { api } = await tenant('Clinica Due Repliche');
      await createCredential(api, PACED, 'realtime', { maxInFlight: 1, requestsPerMinute: 600 });
      // The control: the same load on a credential allowed three calls at once shows that the
      // calls do overlap when pacing lets them (so the paced credential's 1 means something).
      await createCredential(api, CONTROL, 'realtime', { maxInFlight: 3, requestsPerMinute: 600 });
      // Every call of these users is held 300 ms at the STS, so calls would overlap if allowed.
      for (const who of [PACED, CONTROL])
        await admin('POST', '/faults', { kind: 'latency', latencyMs: 300, user: who.username });

      const pacedNumbers = Array.from({ length: 10 }, (_, i) => 201 + i);
      const controlNumbers = Array.from({ length: 10 }, (_, i) => 301 + i);
      const [pacedIds, controlIds] = await Promise.all([
        post(api, PACED.vat, pacedNumbers),
        post(api, CONTROL.vat, controlNumbers),
      ]);
      await waitForStatuses(api, [...pacedIds, ...controlIds], FINAL, 90_000);

      const concurrency = (await admin('GET', '/counters/concurrency')) as Record<
        string,
        { inFlight: number; max: number }
      >;
      expect(concurrency[PACED.username], JSON.stringify(concurrency)).toEqual({ inFlight: 0, max: 1 });
      expect(concurrency[CONTROL.username]?.max, JSON.stringify(concurrency)).toBeGreaterThanOrEqual(2);
      expect(concurrency[CONTROL.username]?.max).toBeLessThanOrEqual(3);
      for (const id of [...pacedIds, ...controlIds]) expect((await invoice(api, id)).status).toBe('accepted');
      for (const n of pacedNumbers) expect(await storedCount(PACED.vat, n), `FT2026/${n}`).toBe(1);
      for (const n of controlNumbers) expect(await storedCount(CONTROL.vat, n), `FT2026/${n}`).toBe(1);
      // The replica is still up (it did not crash taking its share).
      expect((await fetch(`${replica.url}/health`)).ok, replica.output().slice(-3000)).toBe(true);
    } finally {
      for (const fault of (await admin('GET', '/faults')) as { id: string }[])
        await admin('DELETE', `/faults/${fault.id}`);
      await replica.kill();
    }
  }, 150_000);

  it("one clinic's backlog does not hold back another clinic's single document", async () => {
    // The STS takes 3 s to process a file (the simulator's default; the stack's 300 ms is for speed):
    // the backlog's documents stay open that long after their file is uploaded, so "before any of
    // them is final" is a window of seconds, not a race of milliseconds.
    await admin('PATCH', '/settings', { processingDelayMs: 3000 });
    try {
      const a = await tenant('Clinica Grande');
      const b = await tenant('Studio Piccolo Realtime');
      const c = await tenant('Studio Piccolo Batch');
      await createCredential(a.api, BACKLOG, 'batch');
      await createCredential(b.api, SINGLE_REALTIME, 'realtime');
      await createCredential(c.api, SINGLE_BATCH, 'batch');

      const backlogNumbers = Array.from({ length: BACKLOG_DOCUMENTS }, (_, i) => 10_001 + i);
      const backlogIds = await post(a.api, BACKLOG.vat, backlogNumbers);
      // Right behind the backlog: one document of each small clinic.
      const [[realtimeId], [batchId]] = await Promise.all([
        post(b.api, SINGLE_REALTIME.vat, [401]),
        post(c.api, SINGLE_BATCH.vat, [501]),
      ]);

      // Everything goes through in the end.
      const deadline = Date.now() + 120_000;
      let open = Number.POSITIVE_INFINITY;
      while (Date.now() < deadline) {
        const list = await a.api('GET', `/v1/invoices?status=${OPEN}&limit=1`);
        open = list.json.items.length;
        if (open === 0) break;
        await sleep(500);
      }
      expect(open, stack.output('submitter').slice(-3000)).toBe(0);
      await waitForStatuses(b.api, [realtimeId!], FINAL, 30_000);
      await waitForStatuses(c.api, [batchId!], FINAL, 30_000);

      const backlog = await listAll(a.api);
      expect(backlog).toHaveLength(BACKLOG_DOCUMENTS);
      expect(new Set(backlog.map((item) => item.id))).toEqual(new Set(backlogIds));
      for (const item of backlog) expect(item.status).toBe('accepted');
      const firstBacklogFinal = Math.min(...backlog.map((item) => Date.parse(item.statusAt)));
      const lastBacklogReceived = Math.max(...backlog.map((item) => Date.parse(item.receivedAt)));

      // The realtime document was final before any document of the backlog, though received after
      // all of them.
      const realtime = await invoice(b.api, realtimeId!);
      expect(realtime.status).toBe('accepted');
      expect(Date.parse(realtime.receivedAt)).toBeGreaterThanOrEqual(lastBacklogReceived);
      const realtimeFinal = Date.parse(realtime.history.at(-1)!.at);
      expect(realtimeFinal, JSON.stringify(realtime.history)).toBeLessThan(firstBacklogFinal);

      // The batch document waited for its own flush interval, not for the backlog: its own file
      // left (submitted, with a protocol of its own) before any document of the backlog was final.
      const batch = await invoice(c.api, batchId!);
      expect(batch.status).toBe('accepted');
      const submitted = batch.history.find((entry) => entry.status === 'submitted');
      expect(submitted, JSON.stringify(batch.history)).toBeDefined();
      expect(Date.parse(submitted!.at)).toBeLessThan(firstBacklogFinal);
      expect(new Set(backlog.map((item) => item.protocol))).not.toContain(batch.protocol);
      const queued = batch.history.find((entry) => entry.status === 'queued');
      // Reported, not asserted (wall-clock): how long the small clinics waited.
      console.info(
        `[fairness] backlog ${BACKLOG_DOCUMENTS}: first final ${firstBacklogFinal - lastBacklogReceived} ms after the last received; ` +
          `realtime single final after ${realtimeFinal - Date.parse(realtime.receivedAt)} ms; ` +
          `batch single submitted after ${Date.parse(submitted!.at) - Date.parse(batch.receivedAt)} ms ` +
          `(queued after ${queued ? Date.parse(queued.at) - Date.parse(batch.receivedAt) : '?'} ms; flush interval ${FLUSH_INTERVAL_MS} ms)`,
      );

      // Each document of the three clinics arrived exactly once.
      for (const n of [backlogNumbers[0]!, backlogNumbers[BACKLOG_DOCUMENTS >> 1]!, backlogNumbers.at(-1)!])
        expect(await storedCount(BACKLOG.vat, n)).toBe(1);
      const { documents } = (await admin('GET', '/counters')) as {
        documents: Record<string, { stored: number }>;
      };
      const backlogCounters = Object.entries(documents).filter(([key]) => key.startsWith(`${BACKLOG.vat}/`));
      expect(backlogCounters).toHaveLength(BACKLOG_DOCUMENTS);
      for (const [key, counter] of backlogCounters) expect(counter.stored, key).toBe(1);
      expect(await storedCount(SINGLE_REALTIME.vat, 401)).toBe(1);
      expect(await storedCount(SINGLE_BATCH.vat, 501)).toBe(1);
    } finally {
      await admin('PATCH', '/settings', { processingDelayMs: 300 });
    }
  }, 180_000);
});
