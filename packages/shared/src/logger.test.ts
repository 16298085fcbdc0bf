import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'test', level: 'info', destination }) };
}

describe('logger', () => {
  it('redacts secrets and patient codes at every depth we log', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: 'Pw-SECRET-1',
        credential: { pincode: '9876543210', user: 'PROVAX00X00X000Y', label: 'Studio Rossi' },
        document: { lines: { patientTaxCode: 'RSSMRA80A01H501U' } },
        batch: { documents: { first: { patient: { taxCode: 'VRDGPP75C15F205S' } } } },
        credential2: { entratelPin: '4B64AA1D', clientCertificatePassphrase: 'p12-PASS-phrase' },
        req: { headers: { authorization: 'Basic c2VjcmV0' } },
      },
      'sending',
    );
    const text = lines.join('');
    for (const secret of [
      'Pw-SECRET-1',
      '9876543210',
      'RSSMRA80A01H501U',
      'VRDGPP75C15F205S',
      '4B64AA1D',
      'p12-PASS-phrase',
      'Basic c2VjcmV0',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[redacted]');
    expect(text).toContain('Studio Rossi');
  });
});
