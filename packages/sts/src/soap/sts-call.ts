import { lookupStsCode } from '../errors/lookup-sts-code.ts';
import { TransportError } from './soap-transport.ts';

/**
 * Every STS call ends in one of these. The kinds are what the caller must DO, not what happened
 * on the wire: `authentication` and `credential` stop all sending with that credential at once
 * (about 8 wrong logins disable the STS user); `request-rejected` is our software's or our
 * configuration's fault and must not be retried as is; `transient` may be retried with backoff
 * (nothing reached the STS, or it said so); `no-answer` may have been acted on by the STS: reconcile
 * (InterrogazionePuntuale, EsitoInvii) before anything is sent again.
 */
export type StsFailure =
  | {
      kind: 'authentication';
      /** Catalogue name of the fault: `authentication`, `password-expired`, `account-locked`, … */
      reason: string;
      faultString: string;
      explanation: { it: string; en: string };
    }
  | { kind: 'credential'; code: string; description: string; explanation: { it: string; en: string } }
  | { kind: 'request-rejected'; code: string; description: string; explanation: { it: string; en: string } }
  | {
      kind: 'transient';
      reason: 'network' | 'http-status' | 'sts-error' | 'throttled';
      description: string;
      status?: number;
      code?: string;
      retryAfterMs?: number;
    }
  | { kind: 'no-answer'; description: string; code?: string };

export type StsResult<T> = { ok: true; value: T } | { ok: false; failure: StsFailure };

export const succeed = <T>(value: T): StsResult<T> => ({ ok: true, value });
export const failWith = <T>(failure: StsFailure): StsResult<T> => ({ ok: false, failure });

interface SoapFault {
  faultcode?: string;
  faultstring?: string;
}

function faultOf(error: unknown): SoapFault | undefined {
  const root = (error as { root?: { Envelope?: { Body?: { Fault?: SoapFault } } } }).root;
  return root?.Envelope?.Body?.Fault;
}

function retryAfter(value: unknown): number | undefined {
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

/** A code from a response body (codiceEsito, esitoChiamata, dettaglioEsitoNegativo) as a failure. */
export function failureFromCode(
  code: string,
  description: string,
  context: Parameters<typeof lookupStsCode>[1],
): StsFailure {
  const entry = lookupStsCode(code, context, { text: description });
  const received = description || entry.text;
  switch (entry.class) {
    case 'credential':
      return { kind: 'credential', code, description: received, explanation: entry.explanation };
    case 'transient':
    case 'processing':
      return { kind: 'transient', reason: 'sts-error', code, description: received };
    default:
      return { kind: 'request-rejected', code, description: received, explanation: entry.explanation };
  }
}

/**
 * Maps whatever a node-soap call threw to a failure. Answers the STS gave in the body (codes,
 * esitoChiamata) are the operation's to interpret; this covers transport, HTTP and SOAP faults.
 * `idempotent: false` (uploads, document operations) makes every answer that does not say what
 * happened a `no-answer`: the STS may have done the work, so the caller reconciles before resending.
 */
export function failureFromError(error: unknown, { idempotent }: { idempotent: boolean }): StsFailure {
  if (error instanceof TransportError) {
    return error.phase === 'not-sent'
      ? { kind: 'transient', reason: 'network', description: error.message, code: error.code }
      : { kind: 'no-answer', description: error.message, code: error.code };
  }
  const fault = faultOf(error);
  if (fault) {
    const faultcode = String(fault.faultcode ?? '');
    const faultString = String(fault.faultstring ?? '');
    const entry = lookupStsCode(faultcode, 'fault', { text: faultString });
    if (entry.class === 'credential') {
      return { kind: 'authentication', reason: entry.code, faultString, explanation: entry.explanation };
    }
    if (entry.class === 'transient') {
      return { kind: 'transient', reason: 'sts-error', code: faultcode, description: faultString };
    }
    return {
      kind: 'request-rejected',
      code: entry.known ? entry.code : faultcode,
      description: faultString,
      explanation: entry.explanation,
    };
  }
  const response = (error as { response?: { status?: number; headers?: Record<string, unknown> } }).response;
  const status = response?.status;
  const message = error instanceof Error ? error.message : String(error);
  // No HTTP answer and no transport error: it failed here, before anything was sent (our bug).
  if (status === undefined) return unexpectedAnswer('client-error', message);
  const description = `HTTP ${status}: ${message}`;
  // A login refused by the web server in front of the STS: as a wrong password, stop at once.
  if (status === 401 || status === 403) {
    const entry = lookupStsCode('', 'fault', { text: 'Errore generico di autenticazione' });
    return {
      kind: 'authentication',
      reason: `http-${status}`,
      faultString: description,
      explanation: entry.explanation,
    };
  }
  if (status === 429 || status === 503) {
    return {
      kind: 'transient',
      reason: status === 429 ? 'throttled' : 'http-status',
      status,
      description,
      retryAfterMs: retryAfter(response?.headers?.['retry-after']),
    };
  }
  // An answer that is not SOAP says nothing about whether the work was done: a 2xx whose body does
  // not parse, a 5xx page, a gateway's 502/504. Asking again is safe only for reads.
  const unknownOutcome = (status >= 200 && status < 300) || status === 502 || status === 504;
  if (unknownOutcome || (status >= 500 && !idempotent)) {
    return { kind: 'no-answer', description, code: String(status) };
  }
  if (status >= 500) return { kind: 'transient', reason: 'http-status', status, description };
  return unexpectedAnswer(`HTTP ${status}`, description);
}

/** An answer we cannot use, about which nothing can be retried as is: the engineers must look. */
export function unexpectedAnswer(code: string, description: string): StsFailure {
  return {
    kind: 'request-rejected',
    code,
    description,
    explanation: {
      it: 'Il Sistema TS ha dato una risposta inattesa. È un problema tecnico: i tecnici vengono avvisati.',
      en: 'Sistema TS gave an unexpected answer. This is a technical problem: the engineers are alerted.',
    },
  };
}
