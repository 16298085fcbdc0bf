import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import { FIELD } from '../protocol/field-names.ts';
import { authorizeOwner, type OwnerCheck, type RequestedOwner } from '../users/owner-authorization.ts';
import { secretMatches } from '../users/secret-hash.ts';
import type { SimulatorUser } from '../users/simulator-user.ts';
import { requestChild, requestText, type SoapCall } from './soap-call.ts';

/**
 * Checks every service makes of its caller beyond the password: the pincode (encrypted, except the
 * Entratel PIN which travels in clear, §2.1) and the owner the request is about.
 * Codes are the upload's (§1.4): 002 pincode not decryptable, 104 wrong pincode, 113 wrong Entratel PIN.
 */
export type PincodeProblem = '002' | '104' | '113';

export function checkPincode(
  user: SimulatorUser,
  sent: string | undefined,
  decryptor: FieldDecryptor,
): PincodeProblem | undefined {
  const value = (sent ?? '').trim();
  if (user.kind === 'entratel') return secretMatches(user.pincode, value) ? undefined : '113';
  if (value === '') return '002';
  const decrypted = decryptor.decrypt(value);
  if (decrypted.kind === 'failed') return '002';
  if (decrypted.kind === 'plain' && !secretMatches(user.pincode, decrypted.value)) return '104';
  return undefined;
}

/**
 * Reads `datiProprietario`/`Proprietario` and authorizes it. `encryptedTaxCode`: the owner's codice
 * fiscale is encrypted (every service but the upload, whose SOAP part carries it in clear, IT p.1).
 */
export function checkOwner(
  call: SoapCall,
  element: string,
  decryptor: FieldDecryptor,
  encryptedTaxCode: boolean,
): OwnerCheck {
  const owner = requestChild(call, call.payload, element);
  if (!owner) return authorizeOwner(call.user, undefined);
  const read = (name: string) => requestText(call, owner, name) || undefined;
  const requested: RequestedOwner = {};
  const regionCode = read(FIELD.regionCode);
  const aslCode = read(FIELD.aslCode);
  const ssaCode = read(FIELD.ssaCode);
  if (regionCode) requested.regionCode = regionCode;
  if (aslCode) requested.aslCode = aslCode;
  if (ssaCode) requested.ssaCode = ssaCode;
  const taxCode = read(FIELD.ownerTaxCode);
  if (taxCode !== undefined) {
    requested.taxCodeSent = true;
    if (!encryptedTaxCode) {
      requested.taxCode = taxCode;
    } else {
      const decrypted = decryptor.decrypt(taxCode);
      if (decrypted.kind === 'failed') return { ok: false, code: '109' };
      if (decrypted.kind === 'plain') requested.taxCode = decrypted.value;
    }
  }
  return authorizeOwner(call.user, requested);
}
