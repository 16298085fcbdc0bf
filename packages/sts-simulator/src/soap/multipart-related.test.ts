import { describe, expect, it } from 'vitest';
import { MultipartError, parseContentType, parseMultipartRelated } from './multipart-related.ts';

const BOUNDARY = '----=_Part_0_1194513676.1441182487140';
const CONTENT_TYPE = `multipart/related; type="application/xop+xml"; start="<rootpart@soapui.org>"; start-info="text/xml"; boundary="${BOUNDARY}"`;

const part = (headers: string[], body: string) =>
  `--${BOUNDARY}\r\n${headers.join('\r\n')}\r\n\r\n${body}\r\n`;
const message = (...parts: string[]) => Buffer.from(`${parts.join('')}--${BOUNDARY}--\r\n`, 'latin1');

describe('parseContentType', () => {
  it('reads quoted and unquoted parameters, names in lower case', () => {
    expect(parseContentType(CONTENT_TYPE)).toEqual({
      mediaType: 'multipart/related',
      parameters: {
        type: 'application/xop+xml',
        start: '<rootpart@soapui.org>',
        'start-info': 'text/xml',
        boundary: BOUNDARY,
      },
    });
    expect(parseContentType('Text/XML; Charset=ISO-8859-1')).toEqual({
      mediaType: 'text/xml',
      parameters: { charset: 'ISO-8859-1' },
    });
  });

  it('names what stands before the first ; when the value is no media type', () => {
    expect(parseContentType(undefined)).toEqual({ mediaType: '', parameters: {} });
    expect(parseContentType('nonsense; a=b')).toEqual({ mediaType: 'nonsense', parameters: {} });
  });
});

describe('parseMultipartRelated', () => {
  it('takes the start part as root whatever its place, the others by Content-ID; decodes base64 parts', () => {
    const related = parseMultipartRelated(
      message(
        part(
          ['Content-Type: application/zip', 'Content-Transfer-Encoding: base64', 'Content-ID: <a.zip>'],
          'UEsD\r\nBA==',
        ),
        part(
          ['Content-Type: application/xop+xml; charset=UTF-8', 'Content-ID: <rootpart@soapui.org>'],
          '<env/>',
        ),
      ),
      parseContentType(CONTENT_TYPE),
    );
    expect(related.root.body.toString()).toBe('<env/>');
    expect([...related.attachments.keys()]).toEqual(['a.zip']);
    expect(related.attachments.get('a.zip')!.body).toEqual(Buffer.from('UEsDBA==', 'base64'));
  });

  it('skips a preamble before the first delimiter', () => {
    const related = parseMultipartRelated(
      Buffer.concat([Buffer.from('\r\n'), message(part(['Content-ID: <rootpart@soapui.org>'], '<env/>'))]),
      parseContentType(CONTENT_TYPE),
    );
    expect(related.root.body.toString()).toBe('<env/>');
  });

  it('refuses a body cut off before its closing delimiter', () => {
    const cut = Buffer.from(part(['Content-ID: <rootpart@soapui.org>'], '<env/>'));
    expect(() => parseMultipartRelated(cut, parseContentType(CONTENT_TYPE))).toThrow(MultipartError);
  });
});
