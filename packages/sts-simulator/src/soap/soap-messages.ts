import { SOAP_ENVELOPE_NS } from '../protocol/services.ts';
import { escapeXml } from './xml-writer.ts';

/**
 * SOAP 1.1 envelopes as a JAX-WS server writes them: `env` bound to the envelope namespace, an empty
 * Header, faults with unqualified faultcode/faultstring/detail (SOAP 1.1 §4.4). Faults travel with
 * HTTP 500 (SOAP 1.1 §6.2).
 */

export const SOAP_CONTENT_TYPE = 'text/xml; charset=utf-8';

export function soapEnvelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="${SOAP_ENVELOPE_NS}"><env:Header/><env:Body>${body}</env:Body></env:Envelope>`;
}

export type FaultCode = 'Client' | 'Server' | 'VersionMismatch' | 'MustUnderstand';

/** Namespace of the simulator's own fault detail elements (a simulator choice; the STS's is unknown). */
export const SIMULATOR_DETAIL_NS = 'urn:sts-simulator:fault';

export interface SoapFaultOptions {
  code: FaultCode;
  message: string;
  /** Goes into `<detail><sim:reason>`: a stable machine-readable reason. */
  reason?: string;
}

/** A fault to answer instead of a response; thrown by handlers. */
export class SoapFault extends Error {
  readonly code: FaultCode;
  readonly reason: string | undefined;
  constructor(options: SoapFaultOptions) {
    super(options.message);
    this.name = 'SoapFault';
    this.code = options.code;
    this.reason = options.reason;
  }
}

export function soapFaultEnvelope({ code, message, reason }: SoapFaultOptions): string {
  const detail = reason
    ? `<detail><sim:reason xmlns:sim="${SIMULATOR_DETAIL_NS}">${escapeXml(reason)}</sim:reason></detail>`
    : '';
  return soapEnvelope(
    `<env:Fault><faultcode>env:${code}</faultcode><faultstring>${escapeXml(message)}</faultstring>${detail}</env:Fault>`,
  );
}

/** Observed wording of STS authentication faults (docs/protocol.md §1.9, §4.4); the suffixes are ours. */
export const AUTH_FAULTS = {
  generic: { message: 'Errore generico di autenticazione', reason: 'AUTENTICAZIONE_FALLITA' },
  locked: { message: 'Errore generico di autenticazione: utenza bloccata', reason: 'UTENZA_BLOCCATA' },
  expired: { message: 'Password scaduta', reason: 'PASSWORD_SCADUTA' },
} as const;

/** Observed for broken MTOM messages (quickmastro FAQ, docs/protocol.md §4.4). */
export const MTOM_READER_FAULT = 'Errore nella creazione di un lettore per il messaggio MTOM';
