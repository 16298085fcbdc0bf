import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from './logger.ts';

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

describe('request URLs in logs', () => {
  it('redacts the values of sensitive query parameters, however the name is spelled', () => {
    expect(redactUrl('/v1/invoices?status=queued&patient=RSSMRA80A01H501U&limit=2')).toBe(
      '/v1/invoices?status=queued&patient=[redacted]&limit=2',
    );
    expect(redactUrl('/v1/invoices?pati%65nt=RSSMRA80A01H501U')).toBe('/v1/invoices?pati%65nt=[redacted]');
    expect(redactUrl('/v1/x?PATIENT=a&taxCode=b&cf=c&token=d')).toBe(
      '/v1/x?PATIENT=[redacted]&taxCode=[redacted]&cf=[redacted]&token=[redacted]',
    );
    expect(redactUrl('/v1/x?%zz=RSSMRA80A01H501U')).toBe('/v1/x?[redacted]');
    expect(redactUrl('/v1/whoami')).toBe('/v1/whoami');
  });

  it('logs a request line without the codice fiscale of its query', () => {
    const { lines, logger } = capture();
    logger.info(
      { req: { method: 'GET', url: '/v1/invoices?patient=RSSMRA80A01H501U', headers: {}, host: 'h' } },
      'incoming request',
    );
    const text = lines.join('');
    expect(text).not.toContain('RSSMRA80A01H501U');
    expect(JSON.parse(text).req).toMatchObject({ method: 'GET', url: '/v1/invoices?patient=[redacted]' });
  });
});
