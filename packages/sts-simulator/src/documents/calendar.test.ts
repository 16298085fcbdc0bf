import { romeDate } from '@sts/shared';
import { STS_CODE_CATALOGUE, validateExpenseDocument } from '@sts/sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDocument } from '../../test-support/envelopes.ts';
import { errorCsv, errorDetail, fileFor, sync, upload, waitForOutcome } from '../../test-support/flows.ts';
import { findAll, findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import { type KitActor, MEDICO, PATIENTS } from '../../test-support/kit-actors.ts';
import { simulatorConfigSchema } from '../config.ts';
import { DEFAULTS } from '../simulator.ts';

/**
 * The STS calendar and the date rules in the simulator (issue 10), over real HTTP, with the
 * simulator's own clock: S909 for a date after the day of reception, S035 for a closed tax year,
 * W008 for a late one, the veterinary window, and the relaxed mode.
 */

/** The kit's veterinarian (SoggettoVeterinario/UtenzeTest*.txt). */
const VETERINARIO: KitActor = {
  user: 'PNIMRA70A01H501P',
  password: 'Salve123',
  pincode: '1492034195',
  taxCode: 'PNIMRA70A01H501P',
  vatNumber: '98765432105',
};

const text = (code: string) =>
  STS_CODE_CATALOGUE.find((e) => e.context === 'message' && e.code === code)!.text;

let h: Harness;
let now = new Date('2026-01-20T09:00:00Z');
const setToday = (date: string, time = '09:00:00Z') => {
  now = new Date(`${date}T${time}`);
};

beforeAll(async () => {
  h = await startSimulator({ calendar: 'enforce', clock: () => now });
});
afterAll(() => h.close());

let sequence = 0;
const document = (actor: KitActor, date: string, overrides: Partial<TestDocument> = {}): TestDocument => ({
  vatNumber: actor.vatNumber,
  issueDate: date,
  paymentDate: date,
  number: `CAL-${++sequence}`,
  patient: h.cf(PATIENTS[0]),
  ...overrides,
});

const messages = (answer: Awaited<ReturnType<typeof sync>>) =>
  findAll(answer.body, 'messaggio').map(
    (m) => `${findText(m, 'codice')} ${findText(m, 'tipo') || '-'} ${findText(m, 'descrizione')}`,
  );

describe('the simulator counts the STS calendar on its clock (calendar: enforce)', () => {
  it('is the default of buildSimulator and STS_SIM_CALENDAR', () => {
    expect(DEFAULTS.calendar).toBe('enforce');
    expect(simulatorConfigSchema.parse({}).STS_SIM_CALENDAR).toBe('enforce');
    expect(simulatorConfigSchema.parse({ STS_SIM_CALENDAR: 'relaxed' }).STS_SIM_CALENDAR).toBe('relaxed');
    expect(simulatorConfigSchema.safeParse({ STS_SIM_CALENDAR: 'off' }).success).toBe(false);
  });

  it('refuses a document issued or paid after the day of reception (Italian time) with S909', async () => {
    setToday('2026-01-20');
    const paidTomorrow = await sync(
      h,
      MEDICO,
      'insert',
      document(MEDICO, '2026-01-20', { paymentDate: '2026-01-21' }),
    );
    expect(paidTomorrow.outcome).toBe('1');
    expect(paidTomorrow.protocol).toBeUndefined();
    expect(messages(paidTomorrow)).toEqual([`S909 E ${text('S909')}`]);
    const issuedTomorrow = await sync(h, MEDICO, 'insert', document(MEDICO, '2026-01-21'));
    expect(issuedTomorrow.codes).toEqual(['S909']);
    // 23:30 UTC on the 20th is already the 21st in Rome: a document of the 21st is not in the future.
    setToday('2026-01-20', '23:30:00Z');
    expect((await sync(h, MEDICO, 'insert', document(MEDICO, '2026-01-21'))).outcome).toBe('0');
  });

  it('accepts a late insert with W008, which our validation flagged before sending', async () => {
    setToday('2026-02-03');
    const late = document(MEDICO, '2025-11-15');
    const ours = validateExpenseDocument(
      {
        id: { vatNumber: '12345678903', issueDate: '2025-11-15', device: 1, number: late.number },
        operation: 'insert',
        paymentDate: '2025-11-15',
        patient: { kind: 'identified', taxCode: PATIENTS[0] },
        traceablePayment: true,
        documentType: 'invoice',
        lines: [{ expenseType: 'SR', amount: '100.00', vatNature: 'N4' }],
      },
      { today: romeDate(now) },
    );
    expect(ours.ok).toBe(true);
    expect(ours.notices?.map((n) => `${n.code} ${n.stsCode}`)).toEqual(['document.payment-date.late W008']);

    const answer = await sync(h, MEDICO, 'insert', late);
    expect(answer.outcome).toBe('2');
    expect(answer.protocol).toMatch(/^99\d{15}$/);
    expect(messages(answer)).toEqual([
      "W008 W IL DOCUMENTO E' STATO TRASMESSO OLTRE I TERMINI PREVISTI",
      '0 - Operazione eseguita correttamente',
    ]);
    // An update of it is still on time until the correction deadline.
    setToday('2026-02-09');
    expect(
      (
        await sync(h, MEDICO, 'update', {
          ...late,
          lines: [{ type: 'SR', amount: '90.00', vatNature: 'N4' }],
        })
      ).codes,
    ).toEqual(['0']);
  });

  it('refuses every operation on a closed tax year with S035, and stores nothing', async () => {
    setToday('2026-01-10');
    const kept = document(MEDICO, '2025-03-03');
    expect((await sync(h, MEDICO, 'insert', kept)).outcome).toBe('0');
    setToday('2026-02-10');
    const closedInsert = await sync(h, MEDICO, 'insert', document(MEDICO, '2025-12-30'));
    expect(closedInsert.outcome).toBe('1');
    expect(messages(closedInsert)).toEqual([`S035 E ${text('S035')}`]);
    const before = h.sim.archive.size();
    expect(
      (await sync(h, MEDICO, 'update', { ...kept, lines: [{ type: 'SR', amount: '1.00', vatNature: 'N4' }] }))
        .codes,
    ).toEqual(['S035']);
    // A cancellation sends only the id: the stored document's payment date decides.
    expect((await sync(h, MEDICO, 'cancel', kept)).codes).toEqual(['S035']);
    expect(h.sim.archive.size()).toBe(before);
    expect(h.sim.archive.find(`cf:${MEDICO.taxCode}`, { ...kept, device: 1 })?.status).toBe('active');
    // A 2026 payment is on time the same day.
    expect((await sync(h, MEDICO, 'insert', document(MEDICO, '2026-02-01'))).outcome).toBe('0');
  });

  it('keeps the veterinary window open for a veterinarian after the health deadline, not for others', async () => {
    const vetInsert = (paid: string) =>
      sync(
        h,
        VETERINARIO,
        'insert',
        document(VETERINARIO, paid, { lines: [{ type: 'SV', amount: '60.00', vatRate: '22.00' }] }),
      );
    setToday('2026-03-10');
    const vet = await vetInsert('2025-10-01');
    expect(vet.outcome).toBe('0');
    expect(vet.codes).toEqual(['0']);
    expect((await sync(h, MEDICO, 'insert', document(MEDICO, '2025-10-01'))).codes).toEqual(['S035']);
    setToday('2026-03-20');
    const lateVet = await vetInsert('2025-10-02');
    expect(lateVet.outcome).toBe('2');
    expect(lateVet.codes).toEqual(['W008', '0']);
    setToday('2026-03-24');
    expect((await vetInsert('2025-10-03')).codes).toEqual(['S035']);
  });

  it('judges an uploaded file on its day of reception: on time, late (W008), closed (S035), future (S909)', async () => {
    setToday('2026-02-05');
    const documents = [
      document(MEDICO, '2026-01-30'),
      document(MEDICO, '2025-07-01'),
      document(MEDICO, '2024-12-20'),
      document(MEDICO, '2026-02-04', { paymentDate: '2026-02-06', operation: 'I' }),
    ];
    const answer = await upload(h, MEDICO, { zip: fileFor(h, MEDICO, documents) });
    expect(findText(answer.body, 'codiceEsito')).toBe('000');
    const protocol = findText(answer.body, 'protocollo')!;
    // Processed weeks later: what counts is when the STS received the file.
    setToday('2026-03-01');
    await h.sim.processUploads();
    const result = await waitForOutcome(h, MEDICO, protocol);
    expect(result).toMatchObject({ status: 3, sent: 4, accepted: 2, warnings: 1, errors: 2 });
    const rows = errorCsv(await errorDetail(h, MEDICO, protocol))
      .text.trimEnd()
      .split('\n')
      .slice(1)
      .map((row) => row.split(';'))
      .map((fields) => `${fields[7]} ${fields[10]}`);
    expect(rows).toEqual([
      `${documents[1]!.number} W008`,
      `${documents[2]!.number} S035`,
      `${documents[3]!.number} S909`,
    ]);
  });
});

describe('calendar: relaxed (the kit test environment, as it seems to behave)', () => {
  let relaxed: Harness;
  beforeAll(async () => {
    relaxed = await startSimulator({ calendar: 'relaxed', clock: () => new Date('2026-12-07T10:00:00Z') });
  });
  afterAll(() => relaxed.close());

  it('takes a closed year without S035 and a late one without W008, but still refuses the future', async () => {
    const doc = (date: string, paymentDate = date): TestDocument => ({
      vatNumber: MEDICO.vatNumber,
      issueDate: date,
      paymentDate,
      number: `REL-${++sequence}`,
      patient: relaxed.cf(PATIENTS[1]),
    });
    const closed = await sync(relaxed, MEDICO, 'insert', doc('2024-05-05'));
    expect(closed.outcome).toBe('0');
    expect(closed.codes).toEqual(['0']);
    const kept = doc('2025-06-06');
    expect((await sync(relaxed, MEDICO, 'insert', kept)).codes).toEqual(['0']);
    expect((await sync(relaxed, MEDICO, 'cancel', kept)).codes).toEqual(['0']);
    expect((await sync(relaxed, MEDICO, 'insert', doc('2026-12-07', '2026-12-08'))).codes).toEqual(['S909']);
  });
});
