import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';
import { lookupStsCode } from './lookup-sts-code.ts';
import { STS_CODE_CATALOGUE, STS_CODE_CLASSES, STS_CODE_CONTEXTS } from './sts-code-catalogue.ts';

const kit = stsKitDir();
// The project's protocol reference, whose code tables the catalogue must cover.
const protocolDoc = readFileSync(new URL('../../../../docs/protocol.md', import.meta.url), 'utf8');
const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

/** Rows of the official `codiceEsito` table (ASYNC §4.7): code, description over one or two lines, "E". */
function officialUploadTable(file: string): Map<string, string> {
  const lines = readFileSync(join(kit, 'docs', file), 'utf8').split('\n');
  const table = new Map<string, string>();
  let current: string | undefined;
  for (const line of lines) {
    const row = /^ {3}(\d{3}) +(.+?) +E$/.exec(line);
    if (row) {
      current = row[1]!;
      table.set(current, row[2]!);
    } else if (current && /^ {10,14}\S/.test(line)) {
      table.set(current, `${table.get(current)} ${line.trim()}`);
    } else {
      current = undefined;
    }
  }
  return table;
}

function section(heading: string, next: string): string {
  return protocolDoc.slice(protocolDoc.indexOf(heading), protocolDoc.indexOf(next));
}

describe('the catalogue against the official texts', () => {
  it.each([
    '730 Spese Sanitarie - WS Asincrono - Invio dati di spesa sanitaria 20_12_2020.txt',
    '730+Spese+Sanitarie+-+WS+Asincrono+-+Invio+dati+di+spesa++sanitaria+(19+settembre+2016).txt',
  ])('holds every upload code of %s, with its official text verbatim', (file) => {
    const table = officialUploadTable(file);
    expect(table.size).toBe(21);
    for (const [code, text] of table) {
      const entry = lookupStsCode(code, 'upload-result');
      expect(entry.known, code).toBe(true);
      expect(entry.textOrigin).toBe('official');
      expect(collapse(entry.text)).toBe(collapse(text));
    }
  });

  it('holds every EsitoInvii stato of RIC15 §2.6, with its official text', () => {
    const ric15 = readFileSync(
      join(
        kit,
        'kit730P_ver_20201218',
        'TracciatiWS',
        'WS_Ricevute',
        'Specifiche tecniche ricevute 730 precompilato_16_11_2015.txt',
      ),
      'utf8',
    );
    const rows = [...ric15.matchAll(/ {3,}(\d) = (.+)$/gm)].map((match) => [match[1]!, match[2]!.trim()]);
    const states = rows.filter(([, text]) => /^(Il file|In corso|File)/.test(text!));
    expect(states.map(([code]) => code)).toEqual(['0', '1', '2', '3', '5', '9']);
    // The PDF wraps "File scartato in fase di" / "Elaborazione" over two lines; the catalogue has them whole.
    for (const [code, start] of states) {
      const entry = lookupStsCode(code!, 'processing-status');
      expect(entry.known).toBe(true);
      expect(entry.text.startsWith(start!)).toBe(true);
    }
  });
});

describe('every code of docs/protocol.md is in the catalogue', () => {
  it('§1.4 upload codes, and 000', () => {
    const codes = [...section('### 1.4', '### 1.5').matchAll(/^\| (\d{3}) \|/gm)].map((match) => match[1]!);
    expect(codes).toHaveLength(21);
    for (const code of [...codes, '000']) expect(lookupStsCode(code, 'upload-result').known, code).toBe(true);
  });

  it('§1.6 stato values', () => {
    const codes = [...section('### 1.6', '### 1.7').matchAll(/^\| (\d) \|/gm)].map((match) => match[1]!);
    expect(codes).toEqual(['0', '1', '2', '3', '5', '9']);
    for (const code of codes) expect(lookupStsCode(code, 'processing-status').known).toBe(true);
  });

  it('§1.7 document and service messages', () => {
    const codes = new Set([...protocolDoc.matchAll(/\b([ESW]\d{3}|WS\d{2})\b/g)].map((match) => match[1]!));
    expect(codes.size).toBeGreaterThanOrEqual(10);
    for (const code of codes) expect(lookupStsCode(code, 'message').known, code).toBe(true);
  });

  it('§1.9 esitoChiamata of the single-document service and the receipt services', () => {
    for (const code of ['0', '1', '2']) expect(lookupStsCode(code, 'document-call').known).toBe(true);
    for (const context of ['status-call', 'error-detail-call', 'pdf-receipt-call'] as const) {
      for (const code of ['0', '1']) expect(lookupStsCode(code, context).known).toBe(true);
    }
  });

  it('§1.10 esitoChiamata of the citizen-report services: known, with texts that say they are ours', () => {
    expect(lookupStsCode('0', 'citizen-report-call')).toMatchObject({
      class: 'accepted',
      textOrigin: 'ours',
    });
    expect(lookupStsCode('1', 'citizen-report-call')).toMatchObject({
      class: 'not-found',
      textOrigin: 'ours',
    });
    expect(lookupStsCode('WS96', 'message').source).toMatch(/citizen-report services is inferred/);
  });

  it('the SOAP faults of §1.9, §4.4 and the kit', () => {
    expect(lookupStsCode('env:Client', 'fault', { text: 'Errore generico di autenticazione' }).code).toBe(
      'authentication',
    );
    expect(
      lookupStsCode('soapenv:Client', 'fault', {
        text: 'Errore nella creazione di un lettore per il messaggio MTOM',
      }).code,
    ).toBe('mtom-reader');
    const schemaFault = 'cvc-complex-type.2.4.a: Invalid content was found starting with element pincode';
    const schema = lookupStsCode('env:Client', 'fault', { text: schemaFault });
    expect(schema).toMatchObject({ code: 'schema-violation', class: 'request', receivedText: schemaFault });
  });

  it('WS99 and 200, the application errors, are transient', () => {
    expect(lookupStsCode('WS99', 'message').class).toBe('transient');
    expect(lookupStsCode('200', 'upload-result').class).toBe('transient');
  });
});

describe('classes', () => {
  it('makes every credential problem a credential class, so the submitter stops at once', () => {
    for (const code of [
      '002',
      '003',
      '004',
      '005',
      '006',
      '010',
      '104',
      '105',
      '106',
      '107',
      '110',
      '111',
      '112',
      '113',
      '114',
    ]) {
      expect(lookupStsCode(code, 'upload-result').class, code).toBe('credential');
    }
    expect(lookupStsCode('env:Client', 'fault', { text: 'Errore generico di autenticazione' }).class).toBe(
      'credential',
    );
  });

  it('never makes a request or content problem a credential one', () => {
    for (const code of ['000', '101', '102', '103', '108', '109', '200']) {
      expect(lookupStsCode(code, 'upload-result').class, code).not.toBe('credential');
    }
  });

  it('reads the same code differently by context', () => {
    expect(lookupStsCode('2', 'processing-status').class).toBe('accepted');
    expect(lookupStsCode('2', 'document-call').class).toBe('warning');
    expect(lookupStsCode('0', 'processing-status').class).toBe('processing');
    expect(lookupStsCode('0', 'document-call').class).toBe('accepted');
    expect(lookupStsCode('0', 'message').text).toBe('Operazione eseguita correttamente');
    expect(lookupStsCode('1', 'document-call').class).toBe('document');
    expect(lookupStsCode('1', 'processing-status').class).toBe('processing');
    expect(lookupStsCode('2', 'upload-result').class).toBe('credential');
    expect(lookupStsCode('2', 'message').known).toBe(false);
  });

  it('takes numeric codes padded or not, and message codes in any case', () => {
    expect(lookupStsCode('0', 'upload-result').code).toBe('000');
    expect(lookupStsCode(' 05 ', 'processing-status').code).toBe('5');
    expect(lookupStsCode('s017', 'message')).toMatchObject({
      code: 'S017',
      receivedCode: 's017',
      known: true,
    });
  });

  it('gives the real DettaglioErrori CSV codes their class, keeping the received text', () => {
    const rows = readFileSync(join(kit, 'error-tables', 'DettaglioErrori_example_REDACTED.csv'), 'latin1')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(';'));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      const [code, text] = row.slice(-2);
      const entry = lookupStsCode(code!, 'message', { text });
      expect(entry).toMatchObject({ known: true, class: 'document', receivedText: text, text });
    }
  });

  it('classifies faults by faultcode when the text is not known', () => {
    expect(lookupStsCode('soap:Server', 'fault', { text: 'java.lang.NullPointerException' }).class).toBe(
      'transient',
    );
    expect(lookupStsCode('env:Client', 'fault', { text: 'Internal Error' }).class).toBe('credential');
    expect(lookupStsCode('env:Client', 'fault', { text: 'Something new' })).toMatchObject({
      known: false,
      class: 'unknown',
      code: 'env:Client',
      text: 'Something new',
    });
  });
});

describe('codes not in the catalogue', () => {
  it('pass through verbatim, code and text as received', () => {
    const lookup = lookupStsCode('S123', 'message', { text: 'UN ERRORE MAI VISTO', messageType: 'E' });
    expect(lookup).toMatchObject({
      known: false,
      code: 'S123',
      receivedCode: 'S123',
      text: 'UN ERRORE MAI VISTO',
      receivedText: 'UN ERRORE MAI VISTO',
      textOrigin: 'received',
    });
    expect(lookupStsCode('777', 'upload-result', { text: 'NUOVO' })).toMatchObject({
      known: false,
      class: 'unknown',
      code: '777',
      text: 'NUOVO',
    });
  });

  it('follow the prefix rule in messages: E and S rejected, W warning', () => {
    expect(lookupStsCode('E001', 'message').class).toBe('document');
    expect(lookupStsCode('S999', 'message').class).toBe('document');
    expect(lookupStsCode('W999', 'message').class).toBe('warning');
    expect(lookupStsCode('w999', 'message').class).toBe('warning');
  });

  it('do not apply the prefix rule to WS service codes, nor outside messages', () => {
    expect(lookupStsCode('WS12', 'message').class).toBe('unknown');
    expect(lookupStsCode('WS12', 'message', { messageType: 'W' }).class).toBe('unknown');
    expect(lookupStsCode('S999', 'upload-result').class).toBe('unknown');
  });

  it('fall back on the message tipo only where the code says nothing', () => {
    expect(lookupStsCode('123', 'message', { messageType: 'E' }).class).toBe('document');
    expect(lookupStsCode('123', 'message', { messageType: 'W' }).class).toBe('warning');
    expect(lookupStsCode('123', 'message', { messageType: 'S' }).class).toBe('unknown');
    expect(lookupStsCode('W123', 'message', { messageType: 'E' }).class).toBe('warning');
  });
});

describe('the catalogue itself', () => {
  it('has one entry per context and code', () => {
    const keys = STS_CODE_CATALOGUE.map((entry) => `${entry.context} ${entry.code}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every entry a class, a source and an explanation in Italian and English', () => {
    for (const entry of STS_CODE_CATALOGUE) {
      expect(STS_CODE_CONTEXTS).toContain(entry.context);
      expect(STS_CODE_CLASSES).toContain(entry.class);
      expect(entry.class).not.toBe('unknown');
      expect(entry.text.length, entry.code).toBeGreaterThan(0);
      expect(entry.source.length).toBeGreaterThan(0);
      expect(entry.explanation.it.length, entry.code).toBeGreaterThan(30);
      expect(entry.explanation.en.length, entry.code).toBeGreaterThan(30);
      expect(entry.explanation.it).not.toBe(entry.explanation.en);
    }
  });
});
