import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiptEnvelope } from '../../test-support/envelopes.ts';
import { sync } from '../../test-support/flows.ts';
import { basicAuth, type Harness, startSimulator } from '../../test-support/harness.ts';
import { type KitActor, MEDICO, PATH, PATIENTS } from '../../test-support/kit-actors.ts';
import { KIT_DIR, soapuiSample } from '../../test-support/kit-samples.ts';
import { loadKitUsers } from './kit-users.ts';

let h: Harness;
const CONFIGURED: KitActor = {
  user: 'RSSMRA80A01H501U',
  password: 'Segreta.2026',
  pincode: '5555555555',
  taxCode: 'RSSMRA80A01H501U',
  vatNumber: '12345678903',
};

beforeAll(async () => {
  h = await startSimulator({
    users: [
      { username: CONFIGURED.user, password: CONFIGURED.password, pincode: CONFIGURED.pincode },
      { username: 'VRDGPP75C15F205S', password: 'Vecchia1', pincode: '1212121212', expired: true },
    ],
  });
});
afterAll(() => h.close());

const call = (user: string, password: string) =>
  h.soap(
    PATH.outcome,
    receiptEnvelope('EsitoInvii', { pincode: h.pin(MEDICO.pincode), protocol: '99000000000000000' }),
    { user, password },
  );

describe('Basic authentication', () => {
  it('answers a wrong password with the real fault: env:Client, "Errore generico di autenticazione", HTTP 500', async () => {
    const answer = await call(CONFIGURED.user, 'wrong');
    expect(answer.status).toBe(500);
    expect(answer.fault).toEqual({
      code: 'env:Client',
      message: 'Errore generico di autenticazione',
      reason: 'AUTENTICAZIONE_FALLITA',
    });
    expect(answer.headers.get('content-type')).toMatch(/^text\/xml/);
  });

  it('answers an unknown user and a missing header the same way', async () => {
    expect((await call('NESSUNO', 'x')).fault?.message).toBe('Errore generico di autenticazione');
    const anonymous = await h.post(PATH.outcome, soapuiSample('Medico__EsitoInvii__Medico__0'));
    expect(anonymous.status).toBe(500);
    expect(anonymous.text).toContain('<faultstring>Errore generico di autenticazione</faultstring>');
  });

  it('serves configured users next to the kit users', async () => {
    const answer = await sync(h, CONFIGURED, 'insert', {
      vatNumber: CONFIGURED.vatNumber,
      issueDate: '2025-02-02',
      number: 'CFG-1',
      patient: h.cf(PATIENTS[1]),
    });
    expect(answer.outcome).toBe('0');
  });

  it('locks an account after 8 consecutive wrong passwords; then even the right one fails, distinguishably', async () => {
    const user = 'PNIMRA70A01H501P'; // Veterinario
    for (let attempt = 1; attempt <= 7; attempt++) {
      expect((await call(user, `wrong-${attempt}`)).fault?.message).toBe('Errore generico di autenticazione');
    }
    // A right password in between resets the count.
    expect((await call(user, 'Salve123')).fault).toBeUndefined();
    for (let attempt = 1; attempt <= 8; attempt++) {
      expect((await call(user, `wrong-${attempt}`)).fault?.message).toBe('Errore generico di autenticazione');
    }
    const locked = await call(user, 'Salve123');
    expect(locked.status).toBe(500);
    expect(locked.fault).toEqual({
      code: 'env:Client',
      message: 'Errore generico di autenticazione: utenza bloccata',
      reason: 'UTENZA_BLOCCATA',
    });
    expect((await h.admin('GET', `/users/${user}`)).json).toMatchObject({ locked: true, failedAttempts: 8 });

    expect((await h.admin('POST', `/users/${user}/unlock`)).json).toMatchObject({
      locked: false,
      failedAttempts: 0,
    });
    expect((await call(user, 'Salve123')).fault).toBeUndefined();
  });

  it('an expired password answers "Password scaduta"; the admin API can expire and renew passwords', async () => {
    const expired = await call('VRDGPP75C15F205S', 'Vecchia1');
    expect(expired.fault).toEqual({
      code: 'env:Client',
      message: 'Password scaduta',
      reason: 'PASSWORD_SCADUTA',
    });
    // A wrong password on an expired account is still just a wrong password.
    expect((await call('VRDGPP75C15F205S', 'nope')).fault?.message).toBe('Errore generico di autenticazione');

    const renewed = await h.admin('POST', '/users/VRDGPP75C15F205S/password', { password: 'Nuova2026' });
    expect(renewed.json).toMatchObject({ passwordExpired: false, locked: false });
    expect((await call('VRDGPP75C15F205S', 'Vecchia1')).fault?.message).toBe(
      'Errore generico di autenticazione',
    );
    expect((await call('VRDGPP75C15F205S', 'Nuova2026')).fault).toBeUndefined();

    expect((await h.admin('POST', `/users/${MEDICO.user}/expire`)).json).toMatchObject({
      passwordExpired: true,
    });
    expect((await call(MEDICO.user, MEDICO.password)).fault?.message).toBe('Password scaduta');
    await h.admin('POST', `/users/${MEDICO.user}/password`, {
      password: MEDICO.password,
      expiresAt: '2099-01-01T00:00:00Z',
    });
    expect((await call(MEDICO.user, MEDICO.password)).fault).toBeUndefined();
  });

  it('the admin API adds accounts (validated, errors name the field) and 404s unknown ones', async () => {
    const bad = await h.admin('POST', '/users', { username: 'X', password: '' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('password');
    const added = await h.admin('POST', '/users', {
      username: 'NEWUSER1',
      password: 'Pw1',
      pincode: '4444444444',
      kind: 'structure',
      owner: { office: '120-201-12345', taxCode: 'CCSRMO77A09H501E' },
    });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ username: 'NEWUSER1', kind: 'structure' });
    expect(JSON.stringify(added.json)).not.toContain('Pw1');
    expect((await call('NEWUSER1', 'Pw1')).fault).toBeUndefined();
    expect((await h.admin('POST', '/users/NOBODY/unlock')).status).toBe(404);
  });

  it('accepts the password with a pre-emptive header only (no challenge round trip)', async () => {
    const answer = await h.post(PATH.outcome, soapuiSample('Medico__EsitoInvii__Medico__0'), {
      headers: { authorization: basicAuth(MEDICO.user, MEDICO.password) },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('www-authenticate')).toBeNull();
  });
});

describe('kit users', () => {
  it('are read from the kit files, with owners, offices, delegations and the kit ciphertexts', () => {
    const kit = loadKitUsers(KIT_DIR);
    const byName = new Map(kit.users.map((user) => [user.username, user]));
    expect(kit.users.length).toBe(49);
    expect(byName.get('PROVAX00X00X000Y')).toMatchObject({
      password: 'Salve123',
      pincode: '1234567890',
      kind: 'professional',
    });
    expect(byName.get('UV386Q5B')).toMatchObject({
      password: 'SALVE',
      pincode: '1729594276',
      kind: 'structure',
      owner: { office: '130-204-78909', taxCode: 'BBTMRZ54L19H501T', vatNumber: '01201200121' },
    });
    expect(byName.get('UXN6VMDD')?.owner).toMatchObject({
      office: '020-101-888888',
      taxCode: 'CCSRMO77A09H501E',
    });
    expect(byName.get('MSSSMN78C13C773M')).toMatchObject({
      kind: 'entratel',
      pincode: '4B64AA1D',
      entratelSite: '07874631000-000',
      delegators: [{ taxCode: 'FBNFBA62S28H501F', vatNumber: '00265910661' }],
    });
    expect(byName.get('UYIIY4SD')).toMatchObject({
      kind: 'delegate',
      delegators: [{ office: '130-201-88888' }],
    });
    expect(byName.get('MTOMRA66A41G224M')?.category).toBe('AltriProfessionisti/Psicologo');
    expect(
      kit.ciphertexts.get(
        'HmhwvMEtyHOwDm5K3YEQ9RZiNAkJ+FvRwXodiABj9HpRbdQUaLa4cyYZU8YqaBsSs4Lq6u85uDci6xowmF7ZrVgLhZ83q4nSi8bSvVDPS5pPStBlOJfvo8AisqDiKdJvEPbkIhBVnbmf28gh28G/vQLkp2RgVEYinPA0LUCz8PQ=',
      ),
    ).toBe('1234567890');
  });
});
