/**
 * What may travel as a pincode: the SanitelCF ciphertext (base64 of an RSA block: 128 bytes for the
 * RSA-1024 certificate, 256 for a 2048-bit one) or, for Entratel intermediaries only, their
 * 8-character PIN, which the spec sends in clear (docs/protocol.md §2.1). A 10-digit pincode in clear
 * is neither, so it can never be sent by mistake.
 */
export function isSealedPincode(value: string): boolean {
  if (/^[A-Za-z0-9]{8}$/.test(value)) return true;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return false;
  const bytes = Buffer.from(value, 'base64').length;
  return bytes === 128 || bytes === 256;
}

export function assertSealedPincode(value: string): void {
  if (typeof value !== 'string' || !isSealedPincode(value)) {
    throw new TypeError(
      'The pincode must be sent encrypted with the SanitelCF certificate (base64, one line) or be an Entratel PIN; a pincode in clear is never sent.',
    );
  }
}
