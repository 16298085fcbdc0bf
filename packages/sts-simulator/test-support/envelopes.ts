import { createZipArchive } from '@sts/sts';
import { removeElement, setElement, soapuiSample } from './kit-samples.ts';

/**
 * Requests shaped exactly like the kit's SoapUI samples (same prefixes, order and qualification):
 * the receipt, upload and query requests are the sample files with values substituted; the
 * single-document requests and 730 files are written from the samples' shape with our values.
 */

export interface TestOwner {
  regionCode?: string;
  aslCode?: string;
  ssaCode?: string;
  /** Clear in `inviaFileMtom`, encrypted everywhere else. */
  taxCode?: string;
}

export interface TestLine {
  type: string;
  amount: string;
  flag?: string;
  vatRate?: string;
  vatNature?: string;
}

export interface TestDocumentId {
  vatNumber: string;
  issueDate: string;
  device?: number | string;
  number: string;
}

export interface TestDocument extends TestDocumentId {
  operation?: 'I' | 'V' | 'R' | 'C';
  refundOf?: TestDocumentId;
  paymentDate?: string;
  /** Encrypted patient CF; `null` for a patient who opposed. */
  patient: string | null;
  traceable?: 'SI' | 'NO' | null;
  documentType?: 'F' | 'D' | null;
  lines?: TestLine[];
}

const DEFAULT_LINES: TestLine[] = [{ type: 'SR', amount: '100.00', vatNature: 'N4' }];

const leaf = (q: string, name: string, value: string | number) => `<${q}${name}>${value}</${q}${name}>`;

function idContent(q: string, id: TestDocumentId): string {
  return (
    leaf(q, 'pIva', id.vatNumber) +
    leaf(q, 'dataEmissione', id.issueDate) +
    `<${q}numDocumentoFiscale>${leaf(q, 'dispositivo', id.device ?? 1)}${leaf(q, 'numDocumento', id.number)}</${q}numDocumentoFiscale>`
  );
}

function lineElement(q: string, line: TestLine): string {
  let content = leaf(q, 'tipoSpesa', line.type);
  if (line.flag) content += leaf(q, 'flagTipoSpesa', line.flag);
  content += leaf(q, 'importo', line.amount);
  if (line.vatRate) content += leaf(q, 'aliquotaIVA', line.vatRate);
  else if (line.vatNature) content += leaf(q, 'naturaIVA', line.vatNature);
  return `<${q}voceSpesa>${content}</${q}voceSpesa>`;
}

/** A 730 file in the order of `730_precompilata.xsd`, like the kit's example files. */
export function precompilataXml(owner: TestOwner, documents: TestDocument[]): string {
  const codes = owner.regionCode
    ? leaf('', 'codiceRegione', owner.regionCode) +
      leaf('', 'codiceAsl', owner.aslCode!) +
      leaf('', 'codiceSSA', owner.ssaCode!)
    : '';
  const body = documents
    .map((document) => {
      let content = `<idSpesa>${idContent('', document)}</idSpesa>`;
      if (document.refundOf) content += `<idRimborso>${idContent('', document.refundOf)}</idRimborso>`;
      content += leaf('', 'dataPagamento', document.paymentDate ?? document.issueDate);
      content += leaf('', 'flagOperazione', document.operation ?? 'I');
      if (document.patient !== null) content += leaf('', 'cfCittadino', document.patient);
      if (document.traceable !== null) content += leaf('', 'pagamentoTracciato', document.traceable ?? 'SI');
      if (document.documentType !== null) content += leaf('', 'tipoDocumento', document.documentType ?? 'F');
      content += leaf('', 'flagOpposizione', document.patient === null ? '1' : '0');
      content += (document.lines ?? DEFAULT_LINES).map((line) => lineElement('', line)).join('');
      return `\t<documentoSpesa>${content}</documentoSpesa>\n`;
    })
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<precompilata xsi:noNamespaceSchemaLocation="730_precompilata.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' +
    `\t<proprietario>${codes}${owner.taxCode ? leaf('', 'cfProprietario', owner.taxCode) : ''}</proprietario>\n` +
    body +
    '</precompilata>\n'
  );
}

/** `name.zip` holding `name.xml`, as every kit sample. */
export function precompilataZip(fileName: string, xml: string): Buffer {
  return createZipArchive(fileName.replace(/\.zip$/, '.xml'), Buffer.from(xml, 'utf8'));
}

/** `inviaFileMtom` from the Farmacia sample (all owner fields), dropping what `owner` leaves out. */
export function uploadEnvelope(input: {
  fileName: string;
  pincode: string;
  owner: TestOwner;
  optional1?: string;
  /** Content of `<documento>`: `cid:…` (SoapUI style) or inline base64. */
  document: string;
}): string {
  let xml = soapuiSample('Farmacia__inviaFileMtom__FarmaciaAbruzzo__0');
  xml = setElement(xml, 'nomeFileAllegato', input.fileName);
  xml = setElement(xml, 'pincodeInvianteCifrato', input.pincode);
  for (const [name, value] of [
    ['codiceRegione', input.owner.regionCode],
    ['codiceAsl', input.owner.aslCode],
    ['codiceSSA', input.owner.ssaCode],
    ['cfProprietario', input.owner.taxCode],
  ] as const) {
    xml = value === undefined ? removeElement(xml, name) : setElement(xml, name, value);
  }
  xml = setElement(xml, 'opzionale1', input.optional1 ?? '');
  return setElement(xml, 'documento', input.document);
}

type ReceiptSample = 'EsitoInvii' | 'DettaglioErrori' | 'RicevutaPdf';

/** The receipt services' samples with our pincode and protocol (or EsitoInvii's date range). */
export function receiptEnvelope(
  service: ReceiptSample,
  input: { pincode: string; protocol?: string; from?: string; to?: string },
): string {
  let xml = soapuiSample(`Medico__${service}__Medico__0`);
  xml = setElement(xml, 'pinCode', input.pincode);
  if (input.protocol !== undefined) xml = setElement(xml, 'protocollo', input.protocol);
  else xml = removeElement(xml, 'protocollo');
  if (service === 'EsitoInvii') {
    // The sample keeps the date range commented out; restore it when asked for.
    xml = xml.replace(/<!--\s*(<dataInizio>[\s\S]*?<\/dataFine>)\s*-->/, input.from ? '$1' : '');
    if (input.from) {
      xml = setElement(xml, 'dataInizio', input.from);
      xml = setElement(xml, 'dataFine', input.to ?? input.from);
    }
  }
  return xml;
}

const SYNC = {
  insert: { request: 'inserimentoDocumentoSpesaRequest', body: 'idInserimentoDocumentoFiscale' },
  update: { request: 'variazioneDocumentoSpesaRequest', body: 'idVariazioneDocumentoFiscale' },
  refund: { request: 'rimborsoDocumentoSpesaRequest', body: 'DocumentoSpesa' },
  cancel: { request: 'cancellazioneDocumentoSpesaRequest', body: 'idCancellazioneDocumentoFiscale' },
} as const;

function ownerElement(q: string, owner: TestOwner): string {
  const codes = owner.regionCode
    ? leaf(q, 'codiceRegione', owner.regionCode) +
      leaf(q, 'codiceAsl', owner.aslCode!) +
      leaf(q, 'codiceSSA', owner.ssaCode!)
    : '';
  return `<${q}Proprietario>${codes}${owner.taxCode ? leaf(q, 'cfProprietario', owner.taxCode) : ''}</${q}Proprietario>`;
}

/** A single-document request shaped like `Medico__<Operation>__Medico__0`. */
export function syncEnvelope(
  operation: keyof typeof SYNC,
  input: { pincode: string; owner: TestOwner; document: TestDocument },
): string {
  const q = 'doc:';
  const d = input.document;
  let body: string;
  if (operation === 'cancel') {
    body = `<${q}${SYNC.cancel.body}>${idContent(q, d)}</${q}${SYNC.cancel.body}>`;
  } else {
    let content = `<${q}idSpesa>${idContent(q, d)}</${q}idSpesa>`;
    content += leaf(q, 'dataPagamento', d.paymentDate ?? d.issueDate);
    if (d.patient !== null) content += leaf(q, 'cfCittadino', d.patient);
    content += (d.lines ?? DEFAULT_LINES).map((line) => lineElement(q, line)).join('');
    if (d.traceable !== null) content += leaf(q, 'pagamentoTracciato', d.traceable ?? 'SI');
    if (d.documentType !== null) content += leaf(q, 'tipoDocumento', d.documentType ?? 'F');
    content += leaf(q, 'flagOpposizione', d.patient === null ? '1' : '0');
    const element = SYNC[operation].body;
    body = `<${q}${element}>${content}</${q}${element}>`;
    if (operation === 'refund') {
      body = `<${q}idRimborsoDocumentoFiscale>${idContent(q, d.refundOf!)}</${q}idRimborsoDocumentoFiscale>${body}`;
    }
  }
  const request = SYNC[operation].request;
  return (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:doc="http://documentospesap730.sanita.finanze.it">\n' +
    '   <soapenv:Header/>\n   <soapenv:Body>\n' +
    `      <${q}${request}>` +
    `<${q}opzionale1></${q}opzionale1><${q}opzionale2></${q}opzionale2><${q}opzionale3></${q}opzionale3>` +
    leaf(q, 'pincode', input.pincode) +
    ownerElement(q, input.owner) +
    body +
    `</${q}${request}>\n   </soapenv:Body>\n</soapenv:Envelope>`
  );
}

/** `interrogazionePuntualeRequest` from the Medico sample. */
export function pointQueryEnvelope(input: { pincode: string; owner: TestOwner; id: TestDocumentId }): string {
  let xml = soapuiSample('Medico__InterrogazionePuntuale__Medico__0');
  xml = setElement(xml, 'int:pincode', input.pincode);
  xml = xml.replace(/<int:Proprietario>[\s\S]*?<\/int:Proprietario>/, ownerElement('int:', input.owner));
  xml = setElement(xml, 'int:pIva', input.id.vatNumber);
  xml = setElement(xml, 'int:dataEmissione', input.id.issueDate);
  xml = setElement(xml, 'int:dispositivo', String(input.id.device ?? 1));
  return setElement(xml, 'int:numDocumento', input.id.number);
}

/** `reportMensileRequest` from the Medico sample. */
export function monthlyReportEnvelope(input: {
  pincode: string;
  owner: TestOwner;
  yearMonth: string;
}): string {
  let xml = soapuiSample('Medico__ReportMensile__Medico__0');
  xml = setElement(xml, 'rep:pincode', input.pincode);
  xml = xml.replace(/<rep:Proprietario>[\s\S]*?<\/rep:Proprietario>/, ownerElement('rep:', input.owner));
  return setElement(xml, 'rep:annoMese', input.yearMonth);
}

/** `dettaglioSegnalazioneRequest` from the Medico sample. */
export function citizenReportDetailEnvelope(input: {
  pincode: string;
  owner: TestOwner;
  id: TestDocumentId;
}): string {
  let xml = soapuiSample('Medico__DettaglioSegnalazione__Medico__0');
  xml = setElement(xml, 'det:pincode', input.pincode);
  xml = xml.replace(/<det:Proprietario>[\s\S]*?<\/det:Proprietario>/, ownerElement('det:', input.owner));
  xml = setElement(xml, 'det:pIva', input.id.vatNumber);
  xml = setElement(xml, 'det:dataEmissione', input.id.issueDate);
  xml = setElement(xml, 'det:dispositivo', String(input.id.device ?? 1));
  return setElement(xml, 'det:numDocumento', input.id.number);
}

/** `reportSegnalazioniRequest` from the Medico sample: reports filed from `from` to `to`. */
export function citizenReportListEnvelope(input: {
  pincode: string;
  owner: TestOwner;
  from: string;
  to: string;
}): string {
  let xml = soapuiSample('Medico__ReportSegnalazioni__Medico__0');
  xml = setElement(xml, 'rep:pincode', input.pincode);
  xml = xml.replace(/<rep:Proprietario>[\s\S]*?<\/rep:Proprietario>/, ownerElement('rep:', input.owner));
  xml = setElement(xml, 'rep:dataIniPeriodoSegnalazione', input.from);
  return setElement(xml, 'rep:dataFinPeriodoSegnalazione', input.to);
}

export const MTOM_BOUNDARY = '----=_Part_0_1194513676.1441182487140';

/**
 * MTOM framing as SoapUI sends it (IT p.1): the envelope in an `application/xop+xml` root part, each
 * attachment in a binary part. With `xop`, `<documento>cid:x</documento>` becomes an XOP Include.
 */
export function mtomRequest(
  envelope: string,
  attachments: { contentId: string; bytes: Buffer }[],
  options: { xop?: boolean } = {},
): { body: Buffer; contentType: string } {
  const xml = options.xop
    ? envelope.replace(
        /<documento>cid:([^<]+)<\/documento>/,
        '<documento><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:$1"/></documento>',
      )
    : envelope;
  const parts: Buffer[] = [
    Buffer.from(
      `--${MTOM_BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\nContent-Transfer-Encoding: 8bit\r\nContent-ID: <rootpart@soapui.org>\r\n\r\n`,
    ),
    Buffer.from(xml, 'utf8'),
  ];
  for (const attachment of attachments) {
    parts.push(
      Buffer.from(
        `\r\n--${MTOM_BOUNDARY}\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${attachment.contentId}>\r\nContent-Disposition: attachment; name="${attachment.contentId}"\r\n\r\n`,
      ),
      attachment.bytes,
    );
  }
  parts.push(Buffer.from(`\r\n--${MTOM_BOUNDARY}--\r\n`));
  return {
    body: Buffer.concat(parts),
    contentType: `multipart/related; type="application/xop+xml"; start="<rootpart@soapui.org>"; start-info="text/xml"; boundary="${MTOM_BOUNDARY}"`,
  };
}
