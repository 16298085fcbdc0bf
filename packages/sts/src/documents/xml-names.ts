import type { DocumentType, ExpenseTypeFlag, Operation } from './expense-document.ts';

/**
 * The one place where our English model meets the official Italian names of the STS schemas
 * (`730_precompilata.xsd` for batch files, `DocumentoSpesa730pSchema.xsd` for the single-document
 * service) and their coded values. Builders and parsers import from here and nowhere else.
 */

/** Element names shared by the batch file and the single-document service. */
export const XML = {
  optional1: 'opzionale1',
  optional2: 'opzionale2',
  optional3: 'opzionale3',
  regionCode: 'codiceRegione',
  aslCode: 'codiceAsl',
  ssaCode: 'codiceSSA',
  ownerTaxCode: 'cfProprietario',

  document: 'documentoSpesa',
  id: 'idSpesa',
  refundedDocumentId: 'idRimborso',
  paymentDate: 'dataPagamento',
  paidInAdvance: 'flagPagamentoAnticipato',
  operation: 'flagOperazione',
  patientTaxCode: 'cfCittadino',
  traceablePayment: 'pagamentoTracciato',
  documentType: 'tipoDocumento',
  opposition: 'flagOpposizione',
  line: 'voceSpesa',
  expenseType: 'tipoSpesa',
  expenseTypeFlag: 'flagTipoSpesa',
  amount: 'importo',
  vatRate: 'aliquotaIVA',
  vatNature: 'naturaIVA',

  vatNumber: 'pIva',
  issueDate: 'dataEmissione',
  numberGroup: 'numDocumentoFiscale',
  device: 'dispositivo',
  number: 'numDocumento',
} as const;

/** The batch file (`730_precompilata.xsd`, no target namespace). */
export const PRECOMPILATA = {
  root: 'precompilata',
  owner: 'proprietario',
  schemaFile: '730_precompilata.xsd',
  xsiNamespace: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

/** The single-document service (`DocumentoSpesa730pSchema.xsd`): every element in this namespace. */
export const SINGLE_DOCUMENT = {
  namespace: 'http://documentospesap730.sanita.finanze.it',
  prefix: 'doc',
  pincode: 'pincode',
  owner: 'Proprietario',
  schemaFile: 'DocumentoSpesa730pSchema.xsd',
} as const;

/** Request element, the element holding the document, and SOAPAction of each synchronous operation (WSDL). */
export const SINGLE_DOCUMENT_OPERATIONS = {
  insert: {
    request: 'inserimentoDocumentoSpesaRequest',
    document: 'idInserimentoDocumentoFiscale',
    soapAction: 'inserimento.documentospesap730.sanita.finanze.it',
  },
  update: {
    request: 'variazioneDocumentoSpesaRequest',
    document: 'idVariazioneDocumentoFiscale',
    soapAction: 'variazione.documentospesap730.sanita.finanze.it',
  },
  refund: {
    request: 'rimborsoDocumentoSpesaRequest',
    /** The ORIGINAL (refunded) document's id, then the refund document itself. */
    refundedDocumentId: 'idRimborsoDocumentoFiscale',
    document: 'DocumentoSpesa',
    soapAction: 'rimborso.documentospesap730.sanita.finanze.it',
  },
  cancel: {
    request: 'cancellazioneDocumentoSpesaRequest',
    documentId: 'idCancellazioneDocumentoFiscale',
    soapAction: 'cancellazione.documentospesap730.sanita.finanze.it',
  },
} as const;

export const OPERATION_CODES: Record<Operation, string> = {
  insert: 'I',
  update: 'V',
  refund: 'R',
  cancel: 'C',
};
export const DOCUMENT_TYPE_CODES: Record<DocumentType, string> = { invoice: 'F', receipt: 'D' };
export const EXPENSE_TYPE_FLAG_CODES: Record<ExpenseTypeFlag, string> = {
  'emergency-ticket': '1',
  intramoenia: '2',
};
export const TRACEABLE_PAYMENT_CODES = { traceable: 'SI', notTraceable: 'NO' } as const;
export const OPPOSITION_CODES = { opposed: '1', notOpposed: '0' } as const;
export const PAID_IN_ADVANCE_CODE = '1';

const invert = <K extends string>(map: Record<K, string>): Record<string, K> =>
  Object.fromEntries(Object.entries(map).map(([key, code]) => [code, key])) as Record<string, K>;

export const OPERATION_BY_CODE = invert(OPERATION_CODES);
export const DOCUMENT_TYPE_BY_CODE = invert(DOCUMENT_TYPE_CODES);
export const EXPENSE_TYPE_FLAG_BY_CODE = invert(EXPENSE_TYPE_FLAG_CODES);
