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
 */
export function failureFromError(error: unknown): StsFailure {
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
  if (status === 429) {
    return {
      kind: 'transient',
      reason: 'throttled',
      status,
      description: 'the STS asked us to slow down (HTTP 429)',
      retryAfterMs: retryAfter(response?.headers?.['retry-after']),
    };
  }
  // A gateway in front of the STS gave up waiting: the STS itself may have done the work.
  if (status === 502 || status === 504) {
    return {
      kind: 'no-answer',
      description: `HTTP ${status} from a gateway in front of the STS`,
      code: String(status),
    };
  }
  if (status !== undefined && status >= 500) {
    return {
      kind: 'transient',
      reason: 'http-status',
      status,
      description: `HTTP ${status} without a SOAP answer`,
      retryAfterMs: retryAfter(response?.headers?.['retry-after']),
    };
  }
  // Anything else (an HTTP 4xx, an answer that is not SOAP): the request or our client is wrong.
  return {
    kind: 'request-rejected',
    code: status ? `HTTP ${status}` : 'unreadable-answer',
    description: error instanceof Error ? error.message : String(error),
    explanation: {
      it: 'Il Sistema TS ha dato una risposta inattesa. È un problema tecnico: i tecnici vengono avvisati.',
      en: 'Sistema TS gave an unexpected answer. This is a technical problem: the engineers are alerted.',
    },
  };
}
