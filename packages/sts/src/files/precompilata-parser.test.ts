import { describe, expect, it } from 'vitest';
import { PrecompilataParseError, parsePrecompilataXml, parsePrecompilataZip } from './precompilata-parser.ts';
import { createZipArchive } from './zip-archive.ts';

const CF = 'QUJD'.repeat(43);
const ID =
  '<idSpesa><pIva>12345678903</pIva><dataEmissione>2025-01-02</dataEmissione><numDocumentoFiscale><dispositivo>1</dispositivo><numDocumento>7</numDocumento></numDocumentoFiscale></idSpesa>';
const LINE =
  '<voceSpesa><tipoSpesa>SR</tipoSpesa><importo>10.00</importo><naturaIVA>N4</naturaIVA></voceSpesa>';
const DOC = `<documentoSpesa>${ID}<dataPagamento>2025-01-02</dataPagamento><flagOperazione>I</flagOperazione><cfCittadino>${CF}</cfCittadino><pagamentoTracciato>SI</pagamentoTracciato><tipoDocumento>F</tipoDocumento><flagOpposizione>0</flagOpposizione>${LINE}</documentoSpesa>`;
const OWNER = `<proprietario><cfProprietario>${CF}</cfProprietario></proprietario>`;

const file = (body: string, root = 'precompilata', attributes = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${attributes}>\n${body}\n</${root}>`;

const errorOf = (xml: string | Uint8Array) => {
  try {
    parsePrecompilataXml(xml);
  } catch (error) {
    if (error instanceof PrecompilataParseError) return error;
    throw error;
  }
  throw new Error('parsed without error');
};

describe('parsePrecompilataXml', () => {
  it('parses a minimal file', () => {
    expect(parsePrecompilataXml(file(`${OWNER}${DOC}`))).toEqual({
      sender: { kind: 'professional', taxCode: { encrypted: CF } },
      documents: [
        {
          id: { vatNumber: '12345678903', issueDate: '2025-01-02', device: 1, number: '7' },
          operation: 'insert',
          paymentDate: '2025-01-02',
          patient: { kind: 'identified', taxCode: { encrypted: CF } },
          traceablePayment: true,
          documentType: 'invoice',
          lines: [{ expenseType: 'SR', amount: '10.00', vatNature: 'N4' }],
        },
      ],
    });
  });

  it('accepts whitespace and the xs:int/xs:decimal/xs:date lexical forms the XSD allows', () => {
    const xml = file(
      `<opzionale1><anything a="1">goes <here/></anything></opzionale1>\n${OWNER}\n${DOC.replace('<dispositivo>1<', '<dispositivo> 001 <').replace('<dataPagamento>2025-01-02<', '<dataPagamento>\n2025-01-03\n<').replace('<flagOperazione>I</flagOperazione>', '<flagPagamentoAnticipato>1</flagPagamentoAnticipato><flagOperazione>I</flagOperazione>')}`,
      'precompilata',
      ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="730_precompilata.xsd"',
    );
    const [document] = parsePrecompilataXml(xml).documents;
    expect(document).toMatchObject({ id: { device: 1 }, paymentDate: '2025-01-03', paidInAdvance: true });
  });

  it('reads opposition, refunds and structures', () => {
    const refund = DOC.replace(`<cfCittadino>${CF}</cfCittadino>`, '')
      .replace('<flagOpposizione>0<', '<flagOpposizione>1<')
      .replace('<flagOperazione>I<', '<flagOperazione>R<')
      .replace('</idSpesa>', `</idSpesa>${ID.replaceAll('idSpesa', 'idRimborso').replace('>7<', '>6<')}`);
    const owner =
      '<proprietario><codiceRegione>130</codiceRegione><codiceAsl>204</codiceAsl><codiceSSA>78909</codiceSSA></proprietario>';
    const parsed = parsePrecompilataXml(file(`${owner}${refund}`));
    expect(parsed.sender).toEqual({ kind: 'structure', regionCode: '130', aslCode: '204', ssaCode: '78909' });
    expect(parsed.documents[0]).toMatchObject({
      operation: 'refund',
      refundedDocumentId: { number: '6' },
      patient: { kind: 'opposed' },
    });
  });

  it.each([
    ['not well-formed', file(`${OWNER}${DOC}`).replace('</precompilata>', ''), 'xml.malformed'],
    ['empty', '', 'xml.malformed'],
    ['wrong root', file(`${OWNER}${DOC}`, 'documenti'), 'xml.root'],
    ['a namespace', file(`${OWNER}${DOC}`, 'precompilata', ' xmlns="urn:x"'), 'xml.namespace'],
    ['a DOCTYPE', `<!DOCTYPE precompilata [<!ENTITY x "y">]>${file(`${OWNER}${DOC}`)}`, 'xml.doctype'],
    ['no owner', file(DOC), 'xml.missing-element'],
    ['no documents', file(OWNER), 'xml.missing-element'],
    ['owner after a document', file(`${DOC}${OWNER}`), 'xml.missing-element'],
    ['two owners', file(`${OWNER}${OWNER}${DOC}`), 'xml.unexpected-element'],
    [
      'optional fields out of order',
      file(`<opzionale2/><opzionale1/>${OWNER}${DOC}`),
      'xml.unexpected-element',
    ],
    ['unknown root child', file(`${OWNER}${DOC}<extra/>`), 'xml.unexpected-element'],
    [
      'elements out of order',
      file(
        `${OWNER}${DOC.replace('<flagOperazione>I</flagOperazione>', '').replace('<dataPagamento>', '<flagOperazione>I</flagOperazione><dataPagamento>')}`,
      ),
      'xml.missing-element',
    ],
    ['no lines', file(`${OWNER}${DOC.replace(LINE, '')}`), 'xml.missing-element'],
    [
      'unknown element',
      file(`${OWNER}${DOC.replace('<tipoDocumento>', '<note>x</note><tipoDocumento>')}`),
      'xml.unexpected-element',
    ],
    [
      'repeated element',
      file(
        `${OWNER}${DOC.replace('<tipoDocumento>F</tipoDocumento>', '<tipoDocumento>F</tipoDocumento><tipoDocumento>F</tipoDocumento>')}`,
      ),
      'xml.unexpected-element',
    ],
    [
      'rate and nature',
      file(`${OWNER}${DOC.replace('<naturaIVA>', '<aliquotaIVA>10.00</aliquotaIVA><naturaIVA>')}`),
      'xml.unexpected-element',
    ],
    ['bad expense type', file(`${OWNER}${DOC.replace('>SR<', '>ZZ<')}`), 'xml.value'],
    [
      'bad date',
      file(`${OWNER}${DOC.replace('<dataPagamento>2025-01-02', '<dataPagamento>2025-02-30')}`),
      'xml.value',
    ],
    ['bad device', file(`${OWNER}${DOC.replace('<dispositivo>1', '<dispositivo>one')}`), 'xml.value'],
    ['bad amount', file(`${OWNER}${DOC.replace('<importo>10.00', '<importo>10,00')}`), 'xml.value'],
    ['bad operation', file(`${OWNER}${DOC.replace('<flagOperazione>I', '<flagOperazione>X')}`), 'xml.value'],
    [
      'advance flag 2',
      file(
        `${OWNER}${DOC.replace('<flagOperazione>', '<flagPagamentoAnticipato>2</flagPagamentoAnticipato><flagOperazione>')}`,
      ),
      'xml.value',
    ],
    [
      'opposition with a CF',
      file(`${OWNER}${DOC.replace('<flagOpposizione>0<', '<flagOpposizione>1<')}`),
      'xml.opposition-with-tax-code',
    ],
    [
      'neither CF nor opposition',
      file(`${OWNER}${DOC.replace(`<cfCittadino>${CF}</cfCittadino>`, '')}`),
      'xml.missing-element',
    ],
    [
      'partial structure codes',
      file(`<proprietario><codiceRegione>130</codiceRegione>${OWNER.slice(14)}${DOC}`),
      'xml.owner',
    ],
    [
      'text among elements',
      file(`${OWNER}${DOC.replace('<tipoDocumento>', 'oops<tipoDocumento>')}`),
      'xml.mixed-content',
    ],
    [
      'element inside a value',
      file(`${OWNER}${DOC.replace('<importo>10.00</importo>', '<importo><b>10.00</b></importo>')}`),
      'xml.unexpected-element',
    ],
    [
      'an attribute',
      file(`${OWNER}${DOC.replace('<importo>', '<importo currency="EUR">')}`),
      'xml.attribute',
    ],
    ['another encoding', file(`${OWNER}${DOC}`).replace('UTF-8', 'ISO-8859-1'), 'xml.encoding'],
    ['a processing instruction', file(`${OWNER}<?php x ?>${DOC}`), 'xml.processing-instruction'],
  ])('refuses %s', (_, xml, code) => {
    expect(errorOf(xml).code).toBe(code);
  });

  it('refuses invalid UTF-8', () => {
    const bytes = Buffer.from(file(`${OWNER}${DOC}`));
    bytes[bytes.indexOf('>7<') + 1] = 0xff;
    expect(errorOf(bytes).code).toBe('xml.encoding');
  });

  it('says where the problem is', () => {
    const xml = file(`${OWNER}\n${DOC}\n${DOC.replace('<importo>10.00', '<importo>ten')}`);
    const error = errorOf(xml);
    expect(error.path).toBe('/precompilata/documentoSpesa[2]/voceSpesa[1]/importo');
    expect(error.line).toBe(5);
    expect(error.message).toMatch(/documentoSpesa\[2\].*line 5.*must be a decimal/);
  });

  it('reads the zip around the file', () => {
    const zip = createZipArchive('invio.xml', file(`${OWNER}${DOC}`));
    expect(parsePrecompilataZip(zip)).toMatchObject({
      entryName: 'invio.xml',
      documents: [{ operation: 'insert' }],
    });
  });
});
