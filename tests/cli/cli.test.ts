import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLINIC_VAT_NUMBER, gatewayAccounts, invoiceEvent, patientTaxCode } from '@sts/gateway/testing';
import { createPool, type Pool, romeDate } from '@sts/shared';
import { calendarDeadlines } from '@sts/sts';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const DOCTOR = { username: 'BTCMRA80A01H501U', password: 'Batch.Pw.1', pincode: '7310486295' };
const OTHER_DOCTOR = { username: 'RLTMRA80A01H501U', password: 'Realtime.Pw.1', pincode: '7310486296' };
const STS = join(import.meta.dirname, '../../packages/cli/src/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: any;
}

/** Quotes a word for `sh -c`. */
const shellWord = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
/** Days from one civil date to another. */
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/**
 * The `sts` CLI (packages/cli) as a child process against the whole product, as separate processes
 * on real Postgres and Redis: imports (NDJSON, an interrupted one resumed, a CSV with bad lines, one
 * followed until final with its progress on a terminal), waiting by look-up, the deadline report,
 * submissions and their receipts, credentials added with the password on stdin.
 */
describe('the sts CLI against the running stack', () => {
  let stack: Stack;
  let pool: Pool;
  let key: string;
  let tenantId: string;
  const dir = mkdtempSync(join(tmpdir(), 'sts-cli-'));

  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: dir,
    STS_GATEWAY_URL: stack.urls.gateway,
    STS_API_KEY: key,
  });
  const start = (args: string[], stdin?: string, extraEnv: Record<string, string> = {}): ChildProcess => {
    const child = spawn(process.execPath, [STS, ...args], {
      env: { ...env(), ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin!.end(stdin ?? '');
    return child;
  };
  const sts = (args: string[], stdin?: string, extraEnv?: Record<string, string>) =>
    new Promise<Run>((resolve) => {
      const child = start(args, stdin, extraEnv);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
      child.on('close', (code) => {
        let json: any;
        try {
          json = JSON.parse(stdout);
        } catch {}
        resolve({ code, stdout, stderr, json });
      });
    });
  /** Runs `sts` on a terminal (a pseudo-terminal from util-linux `script`): stdout and stderr as one. */
  const onTerminal = (args: string[]) =>
    new Promise<Run>((resolve) => {
      const command = [process.execPath, STS, ...args].map(shellWord).join(' ');
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: { ...env(), TERM: 'xterm' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdin!.end();
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr!.on('data', (chunk: Buffer) => (stdout += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr: '', json: undefined }));
    });
  const invoiceCount = async () =>
    Number(
      (await pool.query('select count(*) from gateway.invoices where tenant_id = $1', [tenantId])).rows[0]
        .count,
    );
  const ndjson = (name: string, from: number, to: number) => {
    const path = join(dir, name);
    const lines = [];
    for (let n = from; n <= to; n++) lines.push(JSON.stringify(invoiceEvent(n)));
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  };

  beforeAll(async () => {
    stack = await startStack({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      simulatorUsers: [
        { ...DOCTOR, kind: 'professional', owner: { vatNumber: CLINIC_VAT_NUMBER } },
        { ...OTHER_DOCTOR, kind: 'professional', owner: { vatNumber: '09876543217' } },
      ],
      // Requests logged: the test of waiting sees which routes it used.
      env: { gateway: { LOG_LEVEL: 'info' } },
    });
    pool = createPool({ url: database.url, applicationName: 'cli-test' });
    const created = await gatewayAccounts(pool).tenants.create({ name: 'Clinica CLI' });
    key = created.firstKey.key;
    tenantId = created.tenant.id;
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
  });

  it('adds a credential with the password and pincode on stdin, tests it, lists it', async () => {
    const added = await sts(
      [
        'credentials',
        'add',
        '--json',
        '--label',
        'Dr Batch',
        '--environment',
        'test',
        '--user',
        DOCTOR.username,
        '--vat-number',
        CLINIC_VAT_NUMBER,
        '--sending-mode',
        'batch',
        '--requests-per-minute',
        '600',
      ],
      `${DOCTOR.password}\n${DOCTOR.pincode}\n`,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.json.test.outcome).toBe('valid');
    expect(added.stdout).not.toContain(DOCTOR.password);
    const id = added.json.credential.id;

    const status = await sts(['credentials', 'status', id]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(id);
    const list = await sts(['credentials', 'list', '--json']);
    expect(list.json.items.map((c: { id: string }) => c.id)).toEqual([id]);

    // Without stdin there is no password: bad usage, nothing sent.
    const none = await sts([
      'credentials',
      'add',
      '--label',
      'x',
      '--user',
      DOCTOR.username,
      '--vat-number',
      CLINIC_VAT_NUMBER,
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('two lines');
  });

  it('prints the remedy when a credential is refused by the STS (exit 1)', async () => {
    const args = ['credentials', 'add', '--label', 'Dr Wrong', '--environment', 'test'];
    const added = await sts(
      [...args, '--user', OTHER_DOCTOR.username, '--vat-number', '09876543217', '--json'],
      `Not.The.Password.1\n${OTHER_DOCTOR.pincode}\n`,
    );
    expect(added.code, added.stderr).toBe(1);
    expect(added.json.test.outcome).toBe('wrong-or-expired-password');
    expect(added.json.test.remedy.en).toEqual(expect.any(String));
    const id = added.json.credential.id;
    const human = await sts(['credentials', 'status', id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('invalid');
    // Tests are paused after a refused login: the CLI says why, exit 1.
    const test = await sts(['credentials', 'test', id]);
    expect(test.code).toBe(1);
    expect(test.stderr).toMatch(/Failed: .+/);
  });

  it('runs the operator commands: tenants and api-keys through the gateway CLI, jobs through the submitter CLI', async () => {
    const db = { DATABASE_URL: database.url };
    const created = await sts(['tenants', 'create', '--name', 'Clinica Operator', '--json'], '', db);
    expect(created.code, created.stderr).toBe(0);
    const tenant = created.json.tenant.id;
    const listed = await sts(
      ['--url', stack.urls.gateway, 'api-keys', 'list', '--tenant', tenant, '--json'],
      '',
      db,
    );
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json.apiKeys).toHaveLength(1);
    // The new key works with the client commands.
    const list = await sts(['--api-key', created.json.apiKey.key, 'invoices', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.items).toEqual([]);
    // The submitter's failed jobs, through its CLI (REDIS_URL).
    const jobs = await sts(['--json', 'jobs', 'failed'], '', { REDIS_URL: redisDatabase.url });
    expect(jobs.code, jobs.stderr).toBe(0);
    expect(jobs.json).toEqual([]);
    // Without DATABASE_URL: bad usage, said by the gateway CLI.
    const none = await sts(['api-keys', 'list', '--tenant', tenant]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('DATABASE_URL');
  });

  it('imports an NDJSON file, then waits until its documents are final', async () => {
    const file = ndjson('first.ndjson', 1, 120);
    const run = await sts(['import', file, '--chunk-size', '50', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({
      events: 120,
      accepted: 120,
      duplicates: 0,
      rejected: 0,
      chunks: { total: 3, sent: 3 },
    });
    expect(await invoiceCount()).toBe(120);

    // The same command again sends nothing: every chunk is in the state file.
    const again = await sts(['import', file, '--chunk-size', '50', '--json']);
    expect(again.json).toMatchObject({ accepted: 120, chunks: { sent: 0, resumed: 3 } });
    expect(await invoiceCount()).toBe(120);

    const state = `${file}.sts-import`;
    const ids = readFileSync(state, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => JSON.parse(line).invoices ?? [])
      .map(([, id]: [number, string]) => id);
    expect(ids).toHaveLength(120);
    const one = await sts(['status', '--wait', '--timeout', '120', '--interval', '300', ids[0]!, '--json']);
    expect(one.code, one.stderr + one.stdout).toBe(0);
    expect(one.json.accepted).toBe(1);
    const all = await sts(['wait', '--file', state, '--timeout', '120', '--interval', '500', '--json']);
    expect(all.code, all.stderr + all.stdout).toBe(0);
    expect(all.json).toMatchObject({ accepted: 120, rejected: 0, pending: [] });
    const status = await sts(['status', ids[1]!]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('accepted');
  }, 180_000);

  it('resumes an interrupted import without storing any event twice', async () => {
    const file = ndjson('big.ndjson', 10_001, 14_000);
    const state = `${file}.sts-import`;
    const child = start(['import', file, '--chunk-size', '100']);
    const chunksRecorded = () => {
      try {
        return readFileSync(state, 'utf8')
          .split('\n')
          .filter((line) => line.startsWith('{"chunk"')).length;
      } catch {
        return 0;
      }
    };
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (chunksRecorded() >= 4) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
      child.on('exit', (code, signal) => {
        clearInterval(timer);
        if (signal !== 'SIGKILL')
          reject(new Error(`the import ended by itself (${code}) before it was killed`));
      });
    });
    await new Promise((resolve) => child.once('close', resolve));
    const killedAt = await invoiceCount();
    expect(killedAt).toBeGreaterThan(120);
    expect(killedAt).toBeLessThan(120 + 4000);
    // Forget the chunks after the first: the resumed import sends them again with the same keys
    // (the gateway replays its answers) and goes on with the rest.
    const [header, first] = readFileSync(state, 'utf8').split('\n');
    writeFileSync(state, `${header}\n${first}\n`);

    const resumed = await sts(['import', file, '--chunk-size', '100', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.json.accepted + resumed.json.duplicates).toBe(4000);
    expect(resumed.json.rejected).toBe(0);
    expect(resumed.json.chunks).toMatchObject({ total: 40, resumed: 1, sent: 39 });
    expect(await invoiceCount()).toBe(120 + 4000);
  }, 120_000);

  it('imports a CSV with bad lines: the summary names each line and column, exit 3', async () => {
    const header =
      'operation,vatNumber,issueDate,device,number,paymentDate,patientTaxCode,traceablePayment,documentType,expenseType,amount,vatNature';
    const doc = (n: number) => [
      'insert',
      CLINIC_VAT_NUMBER,
      '2026-03-02',
      '1',
      `CSV/${n}`,
      '2026-03-02',
      patientTaxCode(50_000 + n),
      'true',
      'invoice',
    ];
    const rows = [
      header,
      [...doc(1), 'SR', '100.00', 'N4'].join(','), // line 2: fine, two lines
      ['insert', CLINIC_VAT_NUMBER, '2026-03-02', '1', 'CSV/1', '', '', '', '', 'AD', '20.00', 'N4'].join(
        ',',
      ), // line 3
      [...doc(2), 'SR', '100.00', 'N9'].join(','), // line 4: bad vatNature
      [...doc(3), 'SR', '100.00', 'N4'].join(','), // line 5: fine
      [...doc(4), 'SR', '100.00', 'N4'].join(','), // line 6: fine, its second line bad
      ['insert', CLINIC_VAT_NUMBER, '2026-03-02', '1', 'CSV/4', '', '', '', '', 'SR', '-5', 'N4'].join(','), // line 7: bad amount
      [...doc(5), 'SR', '100.00', 'N4'].join(',').replace('2026-03-02,1', '2026-03-02,x'), // line 8: bad device
      ['insert', CLINIC_VAT_NUMBER, '2026-03-02', '1', '', '', '', '', '', 'SR', '1.00', 'N4'].join(','), // line 9: no number
    ];
    const file = join(dir, 'clinic.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const before = await invoiceCount();
    const run = await sts(['import', file, '--json']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.json).toMatchObject({ events: 6, accepted: 2, rejected: 4 });
    const at = run.json.rejections.map((r: { line: number; column?: string }) => [r.line, r.column]);
    expect(at).toEqual(
      expect.arrayContaining([
        [4, 'vatNature'],
        [7, 'amount'],
        [8, 'device'],
        [9, 'number'],
      ]),
    );
    expect(await invoiceCount()).toBe(before + 2);

    const human = await sts(['import', file]);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/line 4, column vatNature \(document\.lines\[0\]\.vatNature\)/);
    expect(human.stdout).toMatch(/line 7, column amount/);
    expect(human.stdout).toMatch(/line 9, column number: number is empty/);
  });

  it('answers bad usage with exit 2 and a refused key with exit 1', async () => {
    expect((await sts(['import', join(dir, 'missing.ndjson')])).code).toBe(2);
    expect((await sts(['status'])).code).toBe(2);
    const refused = await sts(['--api-key', 'sts_wrong', 'invoices', 'list']);
    expect(refused.code).toBe(1);
    const list = await sts(['invoices', 'list', '--status', 'accepted', '--limit', '5', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.items).toHaveLength(5);
  });

  it('imports with --wait: a progress bar on a terminal, looks by 1,000 ids, then the outcome by STS code with the lines of the file', async () => {
    // 1,050 events (two look-ups a round); every 50th paid in a closed year: the STS refuses it (S035).
    const path = join(dir, 'waited.ndjson');
    const lines: string[] = [];
    const closed: number[] = [];
    for (let n = 20_001; n <= 21_050; n++) {
      const event = invoiceEvent(n);
      if (n % 50 === 0) {
        event.document.paymentDate = '2023-05-10';
        event.document.id = { ...event.document.id, issueDate: '2023-05-10' };
        closed.push(lines.length + 1);
      }
      lines.push(JSON.stringify(event));
    }
    writeFileSync(path, `${lines.join('\n')}\n`);
    const logBefore = stack.output('gateway').length;

    const run = await onTerminal(['import', path, '--wait', '--timeout', '300', '--interval', '500']);
    expect(run.code, run.stdout.slice(-3000)).toBe(3);
    // The bar: final/total with what they became, and its last state at 100 %.
    expect(run.stdout).toMatch(/\d+\/1050 final \| \d+ accepted, \d+ with warnings, \d+ rejected/);
    expect(run.stdout).toMatch(/100% \| 1050\/1050 final/);
    expect(run.stdout).toContain('1050 events: 1050 accepted, 0 duplicates, 0 rejected.');
    expect(run.stdout).toMatch(
      /At the STS: 1050 documents: \d+ accepted, \d+ accepted with warnings, 21 rejected, 0 not final\./,
    );
    expect(run.stdout).toMatch(/S035 × 21: \S/);
    expect(run.stdout).toContain(`lines ${closed.slice(0, 10).join(', ')} …`);

    // Waiting asked the gateway 1,000 ids at a time, never one invoice at a time.
    const log = stack.output('gateway').slice(logBefore);
    expect(log).toContain('/v1/invoices/lookup');
    expect(log).not.toMatch(/"url":"\/v1\/invoices\/[0-9a-f-]{36}"/);

    // The same outcome for machines, from the state file; nothing in a terminal's bar.
    const again = await sts(['wait', '--file', `${path}.sts-import`, '--timeout', '60', '--json']);
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).toBe('');
    expect(again.json).toMatchObject({ total: 1050, rejected: 21, pending: [], missing: [] });
    expect(again.json.accepted + again.json.acceptedWithWarnings).toBe(1029);
    expect(again.json.rejections).toHaveLength(1);
    expect(again.json.rejections[0]).toMatchObject({ code: 'S035', count: 21, message: expect.any(String) });
    expect(again.json.rejections[0].documents.map((d: { line: number }) => d.line)).toEqual(closed);
  }, 360_000);

  it('reports a tax year against its STS deadline: pending, rejected by code, accepted, days left', async () => {
    // The documents of the interrupted import final first, so that nothing of 2026 is pending.
    const big = await sts([
      'wait',
      '--file',
      join(dir, 'big.ndjson.sts-import'),
      '--timeout',
      '300',
      '--json',
    ]);
    expect(big.json.pending, big.stderr).toEqual([]);

    const year = await sts(['report', 'deadline', '--tax-year', '2026', '--json']);
    expect(year.code, year.stderr).toBe(0);
    const today: string = year.json.today;
    expect(today).toBe(romeDate(new Date()));
    expect(year.json).toMatchObject({ taxYear: 2026, rejected: 0, pending: 0, calendar: { known: true } });
    expect(year.json.accepted + year.json.acceptedWithWarnings).toBe(year.json.summary.total);
    expect(year.json.summary.total).toBeGreaterThan(5000);
    const deadlines = calendarDeadlines(2026).deadlines.filter((d) =>
      ['sending', 'corrections'].includes(d.kind),
    );
    expect(year.json.deadlines).toEqual(
      deadlines.map((d) => ({
        kind: d.kind,
        date: d.date,
        period: d.period,
        daysLeft: daysBetween(today, d.date),
      })),
    );
    const next = year.json.deadlines.find((d: { daysLeft: number }) => d.daysLeft >= 0) ?? null;
    expect(year.json.nextDeadline).toEqual(next);

    // 2023: the closed-year documents the STS refused; exit 3, the reasons by code.
    const closed = await sts(['report', 'deadline', '--tax-year', '2023']);
    expect(closed.code, closed.stderr).toBe(3);
    expect(closed.stdout).toContain('Tax year 2023');
    expect(closed.stdout).toMatch(/0 accepted, 0 accepted with warnings, 21 rejected, 0 pending/);
    expect(closed.stdout).toMatch(/S035 × 21: \S/);
    expect(closed.stdout).toContain('sts invoices list --tax-year 2023 --status rejected');

    // The default year: the previous one until its last correction deadline, then this one.
    const byDefault = await sts(['report', 'deadline', '--json']);
    const current = Number(today.slice(0, 4));
    const lastCorrection = calendarDeadlines(current - 1)
      .deadlines.filter((d) => d.kind === 'corrections')
      .map((d) => d.date)
      .sort()
      .at(-1);
    expect(byDefault.json.taxYear).toBe(lastCorrection && today <= lastCorrection ? current - 1 : current);

    expect((await sts(['report', 'deadline', '--tax-year', '26'])).code).toBe(2);
  }, 360_000);

  it('shows a submission and downloads its receipt and errors by protocol', async () => {
    const accepted = await sts(['invoices', 'list', '--status', 'accepted', '--limit', '1', '--json']);
    const protocol: string = accepted.json.items[0].protocol;
    expect(protocol).toMatch(/^\d{17}$/);

    const shown = await sts(['submissions', 'show', protocol, '--json']);
    expect(shown.json, shown.stderr).toMatchObject({
      protocol,
      state: 'completed',
      receiptUrl: `/v1/submissions/${protocol}/receipt`,
    });
    const { documents } = shown.json;
    expect(documents.total).toBe(
      documents.accepted + documents.acceptedWithWarnings + documents.rejected + documents.pending,
    );
    expect(shown.code).toBe(documents.rejected || documents.pending ? 3 : 0);
    const human = await sts(['submissions', 'show', protocol]);
    expect(human.stdout).toContain(`Submission ${protocol}  completed`);
    expect(human.stdout).toMatch(
      /documents: \d+: \d+ accepted, \d+ accepted with warnings, \d+ rejected, \d+ not final/,
    );

    const receipt = join(dir, 'receipt.pdf');
    const saved = await sts(['submissions', 'receipt', protocol, '-o', receipt, '--json']);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.json).toMatchObject({ protocol, file: receipt });
    expect(readFileSync(receipt).subarray(0, 5).toString()).toBe('%PDF-');

    // The file that carried the closed-year documents: its error detail names S035.
    const rejected = await sts(['invoices', 'list', '--status', 'rejected', '--limit', '1', '--json']);
    const withErrors: string = rejected.json.items[0].protocol;
    const errors = join(dir, 'errors.csv');
    const csv = await sts(['submissions', 'errors', withErrors, '-o', errors]);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toContain(errors);
    expect(readFileSync(errors, 'utf8')).toContain('S035');
    expect((await sts(['submissions', 'show', withErrors])).code).toBe(3);

    // A protocol of no submission of this tenant: exit 1, said plainly.
    for (const command of ['show', 'receipt', 'errors']) {
      const output = command === 'show' ? [] : ['-o', join(dir, 'none')];
      const unknown = await sts(['submissions', command, '99999999999999999', ...output]);
      expect(unknown.code, command).toBe(1);
      expect(unknown.stderr, command).toContain('no submission of this tenant has this protocol');
    }
  });

  it('runs documents uncertain|reconcile through the submitter CLI', async () => {
    const env = { DATABASE_URL: database.url, REDIS_URL: redisDatabase.url };
    const uncertain = await sts(['documents', 'uncertain', '--json'], '', env);
    expect(uncertain.code, uncertain.stderr).toBe(0);
    expect(uncertain.json).toBeDefined();
    const reconcile = await sts(['--json', 'documents', 'reconcile'], '', env);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    expect(reconcile.json).toMatchObject({ skipped: [] });
    const help = await sts(['--help']);
    expect(help.stdout).toMatch(/documents\s+documents whose send had no answer/);
  });
});
