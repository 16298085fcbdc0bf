import { type Owner, ownerKey, ownOwner, type SimulatorUser } from './simulator-user.ts';

/**
 * Whose data a request is about, and whether the authenticated account may send it. The owner comes
 * from `datiProprietario` (upload, codice fiscale in clear) or `Proprietario` (other services, codice
 * fiscale encrypted and decrypted by the caller); an account sends for itself or for the owners that
 * delegated it. Codes (docs/protocol.md §1.4): 109 owner data formally wrong, 110 codice fiscale not the
 * user's, 105 sending on someone's behalf without an active delegation.
 */

export interface RequestedOwner {
  regionCode?: string;
  aslCode?: string;
  ssaCode?: string;
  /** In clear; undefined when absent or not checked (decryption off). */
  taxCode?: string;
  /** A codice fiscale was sent, even if it could not be read. */
  taxCodeSent?: boolean;
}

export type OwnerCheck = { ok: true; owner: Owner; key: string } | { ok: false; code: '105' | '109' | '110' };

const TAX_CODE = /^(?:[A-Z0-9]{16}|[0-9]{11})$/;

export function authorizeOwner(user: SimulatorUser, requested: RequestedOwner | undefined): OwnerCheck {
  const codes = [requested?.regionCode, requested?.aslCode, requested?.ssaCode].map(
    (code) => code || undefined,
  );
  const someCodes = codes.some((code) => code !== undefined);
  const allCodes = codes.every((code) => code !== undefined);
  if (someCodes && !allCodes) return { ok: false, code: '109' };
  if (requested?.taxCode !== undefined && !TAX_CODE.test(requested.taxCode))
    return { ok: false, code: '109' };

  const allowed: Owner[] = [];
  if (user.kind === 'professional' || user.kind === 'structure') allowed.push(ownOwner(user));
  allowed.push(...user.delegators);
  const sendsForOthers = user.kind === 'delegate' || user.kind === 'entratel';

  const nothingRequested = !someCodes && !requested?.taxCodeSent;
  if (nothingRequested) {
    // The XSD allows no owner data; the account then sends for itself (or its only delegator).
    const only = sendsForOthers ? (allowed.length === 1 ? allowed[0] : undefined) : allowed[0];
    return only ? { ok: true, owner: only, key: ownerKey(only) } : { ok: false, code: '109' };
  }

  const office = allCodes ? codes.join('-') : undefined;
  const match = allowed.find((candidate) => {
    if ((candidate.office ?? undefined) !== office) return false;
    return (
      requested?.taxCode === undefined ||
      candidate.taxCode === undefined ||
      candidate.taxCode === requested.taxCode
    );
  });
  if (match) return { ok: true, owner: match, key: ownerKey(match) };
  return { ok: false, code: sendsForOthers ? '105' : '110' };
}
