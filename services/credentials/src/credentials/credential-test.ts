import { lookupStsCode } from '@sts/sts';
import type { StsFailure } from '../sts/sts-client-factory.ts';

/**
 * What a credential test (or a sender's report) found, mapped from the STS answer to one of a few
 * outcomes, each with what it does to the credential and what the clinic should do about it. The
 * remedy comes from the STS error catalogue where it has one for the code received, else from here.
 */
export const TEST_OUTCOMES = [
  'valid',
  'wrong-or-expired-password',
  'wrong-pincode',
  'wrong-user',
  'not-authorised',
  'account-locked',
  'sts-unreachable',
  'sts-refused-request',
] as const;
export type TestOutcome = (typeof TEST_OUTCOMES)[number];

export interface Remedy {
  it: string;
  en: string;
}

export interface Verdict {
  outcome: TestOutcome;
  /** `healthy`: usable now; `unusable`: stop every sender at once; `unchanged`: says nothing about the credential. */
  effect:
    | { kind: 'healthy' }
    | { kind: 'unusable'; status: 'invalid' | 'expired'; reason: string }
    | { kind: 'unchanged' };
  /** After a login-related failure tests pause: for a while, or until the credential changes. */
  pauseTests: 'timed' | 'until-changed' | false;
  remedy: Remedy;
  sts?: { code: string; description: string };
}

const STOPPED_IT =
  'Gli invii con questa credenziale sono sospesi, per non far bloccare l’utenza (circa 8 tentativi errati la disabilitano).';
const STOPPED_EN =
  'Sending with this credential is paused, so that the STS does not lock the user (about 8 wrong attempts disable it).';

export const OUTCOME_REMEDIES: Record<TestOutcome, Remedy> = {
  valid: {
    it: 'Le credenziali funzionano: il Sistema TS ha accettato utente, password e pincode.',
    en: 'The credential works: Sistema TS accepted the user, password and pincode.',
  },
  'wrong-or-expired-password': {
    it: `Il Sistema TS ha rifiutato l’accesso: password errata o scaduta (le password scadono ogni due o tre mesi e al primo rilascio nascono già scadute). ${STOPPED_IT} Accedere al portale sistemats.it, cambiare la password, inserire la nuova password nella credenziale e ripetere il test.`,
    en: `Sistema TS refused the login: the password is wrong or has expired (passwords expire every two or three months and are issued already expired). ${STOPPED_EN} Log in to the sistemats.it portal, change the password, enter the new one in the credential and run the test again.`,
  },
  'wrong-pincode': {
    it: `Il pincode non è corretto o non è più attivo. ${STOPPED_IT} Sul portale Sistema TS, in Profilo utente → Stampa pincode, leggere il pincode attuale (10 cifre), inserirlo nella credenziale e ripetere il test.`,
    en: `The pincode is wrong or no longer active. ${STOPPED_EN} On the Sistema TS portal, under Profilo utente → Stampa pincode, read the current 10-digit pincode, enter it in the credential and run the test again.`,
  },
  'wrong-user': {
    it: `Il Sistema TS non riconosce l’utente o il codice fiscale. ${STOPPED_IT} Controllare il codice utente (il codice fiscale per i professionisti, il codice di 8 caratteri per le strutture; non il nickname del portale) e il codice fiscale del titolare, poi ripetere il test.`,
    en: `Sistema TS does not recognise the user or the codice fiscale. ${STOPPED_EN} Check the user code (the codice fiscale for professionals, the 8-character code for structures; not the portal nickname) and the owner's codice fiscale, then run the test again.`,
  },
  'not-authorised': {
    it: `L’utente esiste ma non è autorizzato a inviare per questo titolare: delega assente o non attiva, oppure registrazione incompleta. ${STOPPED_IT} Completare la registrazione o attivare la delega sul portale Sistema TS, poi ripetere il test.`,
    en: `The user exists but may not send for this owner: the delegation is missing or inactive, or the registration is incomplete. ${STOPPED_EN} Complete the registration or activate the delegation on the Sistema TS portal, then run the test again.`,
  },
  'account-locked': {
    it: 'L’utenza è bloccata sul Sistema TS. Solo l’ente che ha rilasciato le credenziali (ASL o Ordine dei medici) può sbloccarla, rilasciando una nuova password: richiederla, cambiarla al primo accesso al portale, inserirla nella credenziale e ripetere il test. Nessun altro tentativo verrà fatto fino ad allora.',
    en: 'The user is locked on Sistema TS. Only the body that issued the credentials (the ASL or the medical board) can unlock it, by issuing a new password: ask for it, change it at the first portal login, enter it in the credential and run the test again. No other attempt is made until then.',
  },
  'sts-unreachable': {
    it: 'Il Sistema TS non ha risposto (rete, manutenzione o sovraccarico). Non dice nulla sulle credenziali, il cui stato non cambia. Riprovare il test più tardi.',
    en: 'Sistema TS did not answer (network, maintenance or overload). This says nothing about the credential, whose status does not change. Run the test again later.',
  },
  'sts-refused-request': {
    it: 'Il Sistema TS ha rifiutato la richiesta di prova per un motivo tecnico, non per le credenziali, il cui stato non cambia. I tecnici vengono avvisati.',
    en: 'Sistema TS refused the test request for a technical reason, not because of the credential, whose status does not change. The engineers are alerted.',
  },
};

const WRONG_PINCODE = new Set(['002', '005', '104', '113']);
const WRONG_USER = new Set(['003', '004', '006', '010', '107', '109', '110']);

const verdict = (
  outcome: TestOutcome,
  effect: Verdict['effect'],
  pauseTests: Verdict['pauseTests'],
  sts?: Verdict['sts'],
  remedy: Remedy = OUTCOME_REMEDIES[outcome],
): Verdict => ({ outcome, effect, pauseTests, remedy, ...(sts ? { sts } : {}) });

export const VALID_VERDICT: Verdict = verdict('valid', { kind: 'healthy' }, false);

/**
 * Maps an STS failure (from a test call or a sender's report) to its verdict. A refused login is a
 * wrong or expired password whatever its reason (a catalogue fault, `http-401`, `http-403`, one we
 * do not know yet), except the two the STS client names: `password-expired` and `account-locked`.
 */
export function classifyStsFailure(failure: StsFailure): Verdict {
  switch (failure.kind) {
    case 'authentication': {
      const sts = { code: failure.reason, description: failure.faultString };
      if (failure.reason === 'account-locked') {
        return verdict(
          'account-locked',
          { kind: 'unusable', status: 'invalid', reason: 'account-locked' },
          'until-changed',
          sts,
        );
      }
      if (failure.reason === 'password-expired') {
        return verdict(
          'wrong-or-expired-password',
          { kind: 'unusable', status: 'expired', reason: 'password-expired' },
          'until-changed',
          sts,
          withCatalogue(OUTCOME_REMEDIES['wrong-or-expired-password'], failure.explanation),
        );
      }
      return verdict(
        'wrong-or-expired-password',
        { kind: 'unusable', status: 'invalid', reason: 'wrong-or-expired-password' },
        'timed',
        sts,
      );
    }
    case 'credential': {
      const sts = { code: failure.code, description: failure.description };
      const code = failure.code.padStart(3, '0');
      // Every other credential code (the catalogue's 105, 106, 111, 112, 114 …) is a missing right.
      const outcome: TestOutcome = WRONG_PINCODE.has(code)
        ? 'wrong-pincode'
        : WRONG_USER.has(code)
          ? 'wrong-user'
          : 'not-authorised';
      return verdict(
        outcome,
        { kind: 'unusable', status: 'invalid', reason: outcome },
        // Owner data formally wrong is a configuration error, not a login: no lockout risk.
        code === OWNER_DATA_WRONG ? false : 'timed',
        sts,
        withCatalogue(OUTCOME_REMEDIES[outcome], failure.explanation),
      );
    }
    case 'request-rejected':
      return verdict('sts-refused-request', { kind: 'unchanged' }, false, {
        code: failure.code,
        description: failure.description,
      });
    case 'transient':
    case 'no-answer':
      return verdict('sts-unreachable', { kind: 'unchanged' }, false, {
        code: failure.code ?? failure.kind,
        description: failure.description,
      });
  }
}

/** Our outcome text first (what happens to the credential), then the catalogue's word on the code. */
function withCatalogue(ours: Remedy, catalogue: Remedy | undefined): Remedy {
  return catalogue?.it && catalogue.en ? catalogue : ours;
}

/** Owner data the STS calls formally wrong (109): the credential's configuration, not a login. */
const OWNER_DATA_WRONG = '109';

/**
 * What the STS client leaves in a successful answer but still decides a test. The client already
 * fails a call whose notices or messages carry a credential code (002–114); it passes through 109
 * (owner data formally wrong: about the request, not the login, yet to a test it says the
 * credential's owner is misconfigured) and the upload table's internal error 200 (the check did
 * not happen: nothing is known about the credential).
 */
export function failureInAnswer(value: unknown): StsFailure | undefined {
  const answer = (value ?? {}) as {
    notices?: { code: string; description: string }[];
    messages?: { code: string; description: string }[];
  };
  for (const item of [...(answer.notices ?? []), ...(answer.messages ?? [])]) {
    const code = item.code.trim();
    if (!/^\d{3}$/.test(code)) continue;
    const entry = lookupStsCode(code, 'upload-result', { text: item.description });
    const description = item.description || entry.text;
    if (code === OWNER_DATA_WRONG) {
      return { kind: 'credential', code, description, explanation: entry.explanation };
    }
    if (entry.known && entry.class === 'transient') {
      return { kind: 'transient', reason: 'sts-error', code, description };
    }
  }
  return undefined;
}
