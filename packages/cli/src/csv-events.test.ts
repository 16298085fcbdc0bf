import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, resolveConnection } from './config.ts';
import { csvToEvents, locateCsvField } from './csv-events.ts';
import { UsageError } from './errors.ts';

const HEADER =
  'operation;vatNumber;issueDate;device;number;paymentDate;patientTaxCode;traceablePayment;expenseType;amount;vatNature;vatRate';

describe('csvToEvents', () => {
  it('makes one event per document, its lines from consecutive rows, with the rows of each line', () => {
    const text = [
      HEADER,
      'insert;01234567897;2026-03-02;1;FT/1;2026-03-02;opposed;si;SR;100.00;N4;',
      'insert;01234567897;2026-03-02;1;FT/1;;;;AD;20.00;;22.00',
      '',
      'cancel;01234567897;2026-03-01;1;FT/0;;;;;;;',
      'I;01234567897;2026-03-02;2;"FT;2";2026-03-02;rssmra85t10a562s;no;TK;5.00;N1;',
    ].join('\r\n');
    const { events, rejections } = csvToEvents(text);
    expect(rejections).toEqual([]);
    expect(events.map((event) => [event.line, event.lineRows])).toEqual([
      [2, [2, 3]],
      [5, [5]],
      [6, [6]],
    ]);
    expect(JSON.parse(events[0]!.text)).toEqual({
      operation: 'insert',
      document: {
        id: { vatNumber: '01234567897', issueDate: '2026-03-02', device: 1, number: 'FT/1' },
        paymentDate: '2026-03-02',
        patient: { kind: 'opposed' },
        traceablePayment: true,
        lines: [
          { expenseType: 'SR', amount: '100.00', vatNature: 'N4' },
          { expenseType: 'AD', amount: '20.00', vatRate: '22.00' },
        ],
      },
    });
    expect(JSON.parse(events[1]!.text)).toEqual({
      operation: 'cancel',
      document: { id: { vatNumber: '01234567897', issueDate: '2026-03-01', device: 1, number: 'FT/0' } },
    });
    const third = JSON.parse(events[2]!.text);
    expect(third.operation).toBe('insert');
    expect(third.document.id.number).toBe('FT;2');
    expect(third.document.patient).toEqual({ kind: 'identified', taxCode: 'RSSMRA85T10A562S' });
    expect(third.document.traceablePayment).toBe(false);
  });

  it('rejects rows the file gets wrong, by line and column, and passes other values on for the gateway', () => {
    const text = [
      HEADER,
      'insert;01234567897;2026-03-02;1;;2026-03-02;opposed;si;SR;1.00;N4;',
      'insert;01234567897;2026-03-02;1;FT/9;2026-03-02;opposed;si;SR;1.00;N4;',
      'insert;01234567897;2026-03-02;1;FT/9;2026-03-05;;;SR;1.00;N4;',
      'insert;01234567897;2026-03-02;x;FT/8;2026-03-02;opposed;maybe;SR;1.00;N4;;extra',
      'insert;01234567897;2026-03-02;x;FT/7;2026-03-02;opposed;maybe;SR;1.00;N4;',
    ].join('\n');
    const { events, rejections } = csvToEvents(text);
    expect(rejections).toEqual([
      { line: 2, column: 'number', rule: 'required', message: 'number is empty' },
      expect.objectContaining({ line: 4, column: 'paymentDate', rule: 'conflicting-rows' }),
      expect.objectContaining({ line: 5, rule: 'column-count' }),
    ]);
    const passed = JSON.parse(events[0]!.text);
    expect(passed.document.id.device).toBe('x');
    expect(passed.document.traceablePayment).toBe('maybe');
  });

  it('refuses a header with unknown or missing columns (bad usage)', () => {
    expect(() => csvToEvents('operation,vatNumber,colour\n')).toThrow(UsageError);
    expect(() => csvToEvents('operation,vatNumber,colour\n')).toThrow(/colour/);
    expect(() => csvToEvents('operation,vatNumber,issueDate,device\n')).toThrow(/number/);
    expect(() => csvToEvents('')).toThrow(/header/);
  });

  it('finds the row and column of a field the gateway names', () => {
    const source = { text: '{}', line: 10, lineRows: [10, 11, 12] };
    expect(locateCsvField('document.lines[2].amount', source)).toEqual({ line: 12, column: 'amount' });
    expect(locateCsvField('line 3.document.id.device', source)).toEqual({ line: 10, column: 'device' });
    expect(locateCsvField('document.patient.taxCode', source)).toEqual({
      line: 10,
      column: 'patientTaxCode',
    });
    expect(locateCsvField('document.refundedDocumentId.number', source)).toEqual({
      line: 10,
      column: 'refundedNumber',
    });
    expect(locateCsvField('document.paymentDate', source)).toEqual({ line: 10, column: 'paymentDate' });
    expect(locateCsvField('document', source)).toEqual({ line: 10 });
  });
});

describe('resolveConnection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sts-config-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ url: 'http://gw.example:9000/', apiKey: 'sts_file' }));

  it('takes the flag, then the environment, then the config file; the URL defaults to 127.0.0.1:8080', () => {
    const env = { STS_CONFIG: file, STS_API_KEY: 'sts_env', STS_GATEWAY_URL: 'http://env:1' };
    expect(resolveConnection({ apiKey: 'sts_flag', url: 'http://flag:2' }, env)).toEqual({
      apiKey: 'sts_flag',
      url: 'http://flag:2',
    });
    expect(resolveConnection({}, env)).toEqual({ apiKey: 'sts_env', url: 'http://env:1' });
    expect(resolveConnection({}, { STS_CONFIG: file })).toEqual({
      apiKey: 'sts_file',
      url: 'http://gw.example:9000',
    });
    expect(resolveConnection({ apiKey: 'k' }, { HOME: dir })).toEqual({
      apiKey: 'k',
      url: 'http://127.0.0.1:8080',
    });
  });

  it('says where a key may come from when there is none, and names a bad config file', () => {
    expect(() => resolveConnection({}, { HOME: dir })).toThrow(/--api-key.*STS_API_KEY.*config\.json/);
    expect(configPath({ HOME: '/home/x' })).toBe('/home/x/.config/sts/config.json');
    expect(() => resolveConnection({}, { STS_CONFIG: join(dir, 'missing.json') })).toThrow(UsageError);
    expect(() => resolveConnection({ apiKey: 'k', url: 'ftp://x' }, {})).toThrow(/not an http/);
  });
});
