import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TestDocument } from '../../test-support/envelopes.ts';
import { receiptEnvelope } from '../../test-support/envelopes.ts';
import {
  errorCsv,
  errorDetail,
  fileFor,
  outcome,
  sync,
  upload,
  waitForOutcome,
} from '../../test-support/flows.ts';
import { findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import { type KitActor, MEDICO, PATIENTS } from '../../test-support/kit-actors.ts';
import { loadOrCreateKeyPair } from '../key-pair-files.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sts-simulator-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stateFile = path.join(dir, 'state', 'journal.ndjson');
const keyFiles = {
  certificate: path.join(dir, 'keys', 'sanitel.pem'),
  privateKey: path.join(dir, 'keys', 'sanitel.key'),
};

async function start(processingDelayMs = 40): Promise<Harness> {
  const keyPair = loadOrCreateKeyPair(keyFiles);
  return startSimulator({ stateFile, keyPair, processingDelayMs });
}

describe('persistence', () => {
  it('keeps documents, protocols, outcomes, lockouts and pending uploads across a restart', async () => {
    const first = await start();
    const synced: TestDocument = {
      vatNumber: MEDICO.vatNumber,
      issueDate: '2025-09-09',
      number: 'P-1',
      patient: first.cf(PATIENTS[0]),
    };
    const inserted = await sync(first, MEDICO, 'insert', synced);
    expect(inserted.outcome).toBe('0');

    const inFile: TestDocument = { ...synced, number: 'P-2' };
    const answer = await upload(first, MEDICO, { zip: fileFor(first, MEDICO, [inFile, inFile]) });
    const protocol = findText(answer.body, 'protocollo')!;
    expect(await waitForOutcome(first, MEDICO, protocol)).toMatchObject({
      status: 3,
      sent: 2,
      accepted: 1,
      errors: 1,
    });

    for (let attempt = 0; attempt < 8; attempt++) {
      await first.soap(
        '/EsitoStatoInviiWEB/EsitoInvioDatiSpesa730Service',
        receiptEnvelope('EsitoInvii', { pincode: first.pin('1492034195'), protocol }),
        {
          user: 'PNIMRA70A01H501P',
          password: 'wrong',
        },
      );
    }
    const certificate = first.sim.certificatePem;
    await first.close();

    // A slow second life: the upload sent now is still queued when the simulator stops.
    const second = await start(60_000);
    expect(second.sim.certificatePem).toBe(certificate);
    const again = await sync(second, MEDICO, 'insert', synced);
    expect(again.codes).toEqual(['S017']);
    const processed = await outcome(second, MEDICO, protocol);
    expect(processed).toMatchObject({ status: 3, sent: 2, accepted: 1, errors: 1 });
    expect(errorCsv(await errorDetail(second, MEDICO, protocol)).text).toContain(';S017;');
    expect((await second.admin('GET', '/users/PNIMRA70A01H501P')).json).toMatchObject({ locked: true });
    const counters = (await second.admin('GET', '/counters')).json as {
      documents: Record<string, { stored: number }>;
    };
    expect(counters.documents[`${MEDICO.vatNumber}/2025-09-09/1/P-1`]?.stored).toBe(1);

    const pendingDocument: TestDocument = { ...synced, number: 'P-3' };
    const pending = await upload(second, MEDICO, { zip: fileFor(second, MEDICO, [pendingDocument]) });
    const pendingProtocol = findText(pending.body, 'protocollo')!;
    expect(BigInt(pendingProtocol)).toBeGreaterThan(BigInt(protocol));
    expect((await outcome(second, MEDICO, pendingProtocol)).status).toBe(0);
    await second.close();

    const third = await start();
    expect(await waitForOutcome(third, MEDICO, pendingProtocol)).toMatchObject({ status: 2, accepted: 1 });
    const next = await sync(third, MEDICO, 'insert', { ...synced, number: 'P-4' });
    expect(BigInt(next.protocol!)).toBeGreaterThan(BigInt(pendingProtocol));
    await third.admin('POST', '/reset');
    await third.close();

    // The reset is durable too.
    const fourth = await start();
    expect((await sync(fourth, MEDICO, 'insert', synced)).outcome).toBe('0');
    await fourth.close();
    // Compacted at each start: one line per live key, not the whole history.
    const lines = readFileSync(stateFile, 'utf8').trim().split('\n');
    expect(lines.filter((line) => line.startsWith('{"t":"reset"'))).toEqual([]);
  });
});

describe('secrets in the state file', () => {
  const ADDED: KitActor = {
    user: 'RSSMRA80A01H501U',
    password: 'Aggiunta.Segreta.7',
    pincode: '7391046285',
    taxCode: 'RSSMRA80A01H501U',
    vatNumber: '12345678903',
  };
  const NEW_PASSWORD = 'Nuova.Segreta.2026';
  const document = (h: Harness, number: string): TestDocument => ({
    vatNumber: ADDED.vatNumber,
    issueDate: '2025-09-10',
    number,
    patient: h.cf(PATIENTS[0]),
  });

  it('keeps no password or pincode in clear: admin password changes and added accounts are salted scrypt hashes', async () => {
    const file = path.join(dir, 'secrets', 'journal.ndjson');
    const first = await startSimulator({ stateFile: file, keyPair: loadOrCreateKeyPair(keyFiles) });
    expect(
      (await first.admin('POST', `/users/${MEDICO.user}/password`, { password: NEW_PASSWORD })).status,
    ).toBe(200);
    const added = await first.admin('POST', '/users', {
      username: ADDED.user,
      password: ADDED.password,
      pincode: ADDED.pincode,
      owner: { vatNumber: ADDED.vatNumber },
    });
    expect(added.status).toBe(201);
    expect((await sync(first, ADDED, 'insert', document(first, 'H-1'))).outcome).toBe('0');
    await first.close();

    const journal = readFileSync(file, 'utf8');
    for (const secret of [NEW_PASSWORD, ADDED.password, ADDED.pincode]) expect(journal).not.toContain(secret);
    expect(journal).toMatch(/"hash":"scrypt\$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    // After a restart the hashes are what logins are checked against.
    const second = await startSimulator({ stateFile: file, keyPair: loadOrCreateKeyPair(keyFiles) });
    try {
      expect((await sync(second, ADDED, 'insert', document(second, 'H-2'))).outcome).toBe('0');
      const wrongPin = await sync(second, ADDED, 'insert', document(second, 'H-3'), {
        pincode: second.pin('1111111111'),
      });
      expect(wrongPin.codes).toEqual(['104']);
      const renewed = { ...MEDICO, password: NEW_PASSWORD };
      const doc = { ...document(second, 'H-4'), vatNumber: MEDICO.vatNumber };
      expect((await sync(second, renewed, 'insert', doc)).outcome).toBe('0');
      expect((await sync(second, MEDICO, 'insert', doc)).fault?.message).toBe(
        'Errore generico di autenticazione',
      );
    } finally {
      await second.close();
    }
    const compacted = readFileSync(file, 'utf8');
    for (const secret of [NEW_PASSWORD, ADDED.password, ADDED.pincode])
      expect(compacted).not.toContain(secret);
  });

  it('migrates a state file written with clear passwords and pincodes: hashed at start, logins still work', async () => {
    const file = path.join(dir, 'legacy', 'journal.ndjson');
    mkdirSync(path.dirname(file), { recursive: true });
    const legacyAccount = {
      username: ADDED.user,
      password: ADDED.password,
      pincode: ADDED.pincode,
      kind: 'professional',
      category: 'Configured',
      owner: { vatNumber: ADDED.vatNumber },
      delegators: [],
      expired: false,
      traceablePaymentExempt: false,
      kitCiphertexts: [],
    };
    writeFileSync(
      file,
      [
        { t: 'account', k: ADDED.user, v: legacyAccount },
        { t: 'login', k: ADDED.user, v: { failedAttempts: 0, locked: false } },
        { t: 'login', k: MEDICO.user, v: { failedAttempts: 2, locked: false, password: NEW_PASSWORD } },
      ]
        .map((record) => JSON.stringify(record))
        .join('\n'),
    );
    const h = await startSimulator({ stateFile: file, keyPair: loadOrCreateKeyPair(keyFiles) });
    try {
      const migrated = readFileSync(file, 'utf8');
      for (const secret of [NEW_PASSWORD, ADDED.password, ADDED.pincode])
        expect(migrated).not.toContain(secret);
      expect((await sync(h, ADDED, 'insert', document(h, 'L-1'))).outcome).toBe('0');
      const doc = { ...document(h, 'L-2'), vatNumber: MEDICO.vatNumber };
      expect((await sync(h, { ...MEDICO, password: NEW_PASSWORD }, 'insert', doc)).outcome).toBe('0');
      expect((await sync(h, MEDICO, 'insert', doc)).fault?.message).toBe('Errore generico di autenticazione');
    } finally {
      await h.close();
    }
  });
});
