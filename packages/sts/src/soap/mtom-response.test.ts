import { describe, expect, it } from 'vitest';
import { inlineMtomResponse } from './soap-transport.ts';

const BOUNDARY = 'uuid:7c1d0a6e';
const TYPE = `multipart/related; type="application/xop+xml"; boundary="${BOUNDARY}"; start="<root.message@cxf.apache.org>"`;
const pdf = Buffer.from('%PDF-1.4 binary \r\n--not-the-boundary \x00\xff', 'latin1');

const answer = (preamble: string, closed = true) =>
  Buffer.concat([
    Buffer.from(
      `${preamble}--${BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\n` +
        'Content-ID: <root.message@cxf.apache.org>\r\n\r\n' +
        '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><pdf>' +
        '<xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:receipt%40sts"/>' +
        `</pdf></S:Body></S:Envelope>\r\n--${BOUNDARY}\r\nContent-Type: application/pdf\r\n` +
        'Content-Transfer-Encoding: binary\r\nContent-ID: <receipt%40sts>\r\n\r\n',
    ),
    pdf,
    Buffer.from(`\r\n--${BOUNDARY}${closed ? '--\r\n' : ''}`),
  ]);

describe('inlineMtomResponse', () => {
  it('puts the referenced part back inline as base64, byte for byte', () => {
    expect(inlineMtomResponse(answer(''), TYPE)).toContain(`<pdf>${pdf.toString('base64')}</pdf>`);
  });

  it('skips a preamble before the first delimiter', () => {
    expect(inlineMtomResponse(answer('\r\n'), TYPE)).toContain(`<pdf>${pdf.toString('base64')}</pdf>`);
  });

  it('refuses an answer cut off before its closing delimiter', () => {
    expect(() => inlineMtomResponse(answer('', false), TYPE)).toThrow(/not finished/);
  });
});
