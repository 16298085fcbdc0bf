/**
 * Element names of the requests and responses the simulator reads and writes, as the kit's XSDs
 * spell them. Request readers and response writers import them from here only.
 */
export const FIELD = {
  // inviaFileMtom
  fileName: 'nomeFileAllegato',
  encryptedPincode: 'pincodeInvianteCifrato',
  ownerData: 'datiProprietario',
  document: 'documento',
  uploadReturn: 'return',
  resultCode: 'codiceEsito',
  receivedAt: 'dataAccoglienza',
  resultDescription: 'descrizioneEsito',
  fileSize: 'dimensioneFileAllegato',
  protocol: 'protocollo',
  errorId: 'idErrore',

  // owner (datiProprietario / Proprietario)
  owner: 'Proprietario',
  regionCode: 'codiceRegione',
  aslCode: 'codiceAsl',
  ssaCode: 'codiceSSA',
  ownerTaxCode: 'cfProprietario',
  optional1: 'opzionale1',
  optional2: 'opzionale2',
  optional3: 'opzionale3',

  // receipts services
  input: 'DatiInputRichiesta',
  output: 'DatiOutputRichiesta',
  receiptPincode: 'pinCode',
  fromDate: 'dataInizio',
  toDate: 'dataFine',
  callOutcome: 'esitoChiamata',
  positives: 'esitiPositivi',
  positive: 'dettagliEsito',
  negatives: 'esitiNegativi',
  negative: 'dettaglioEsitoNegativo',
  code: 'codice',
  description: 'descrizione',
  sentAt: 'dataInvio',
  status: 'stato',
  sentCount: 'nInviati',
  acceptedCount: 'nAccolti',
  warningCount: 'nWarnings',
  errorCount: 'nErrori',
  csv: 'csv',
  pdf: 'pdf',

  // single-document and query services
  pincode: 'pincode',
  messages: 'listaMessaggi',
  message: 'messaggio',
  messageType: 'tipo',
  insertDocument: 'idInserimentoDocumentoFiscale',
  updateDocument: 'idVariazioneDocumentoFiscale',
  refundedDocumentId: 'idRimborsoDocumentoFiscale',
  refundDocument: 'DocumentoSpesa',
  cancelDocumentId: 'idCancellazioneDocumentoFiscale',
  documentId: 'idDocumentoFiscale',
  fiscalDocument: 'documentoFiscale',
  expenseTotals: 'totaliVociSpesa',
  refundedTotals: 'totaliVociSpesaRimborsate',
  fileNameOut: 'nomeFile',
  sendKind: 'tipoInvio',
  yearMonth: 'annoMese',
  extractionKind: 'tipoEstrazione',
  csvFile: 'fileCSV',

  // citizen-report services (WS_Segnalazioni_Cittadino)
  reportPeriodFrom: 'dataIniPeriodoSegnalazione',
  reportPeriodTo: 'dataFinPeriodoSegnalazione',
  documentReports: 'listaSegnalazioniDocumento',
  documentReport: 'segnalazione',
  reportedLines: 'listaVociSpesa',
  reportedRefundedLines: 'listaVociSpesaRimborsate',
  amountReport: 'segnalazioneImporto',
  expenseTypeReport: 'segnalazioneTipoVoceSpesa',

  // documentoSpesa (sync schema order)
  id: 'idSpesa',
  vatNumber: 'pIva',
  issueDate: 'dataEmissione',
  numberGroup: 'numDocumentoFiscale',
  device: 'dispositivo',
  number: 'numDocumento',
  paymentDate: 'dataPagamento',
  paidInAdvance: 'flagPagamentoAnticipato',
  patientTaxCode: 'cfCittadino',
  line: 'voceSpesa',
  expenseType: 'tipoSpesa',
  expenseTypeFlag: 'flagTipoSpesa',
  amount: 'importo',
  vatRate: 'aliquotaIVA',
  vatNature: 'naturaIVA',
  traceablePayment: 'pagamentoTracciato',
  documentType: 'tipoDocumento',
  opposition: 'flagOpposizione',
} as const;

/** `nomeFile` of documents received by the single-document service (§1.10, observed). */
export const SYNC_FILE_NAME = 'SERVIZIO SINCRONO';

/** `flagOperazione` letters, also used as `tipoInvio`. */
export const OPERATION_LETTER = { insert: 'I', update: 'V', refund: 'R', cancel: 'C' } as const;
