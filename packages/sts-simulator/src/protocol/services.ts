/**
 * The services the simulator answers, exactly as the kit's WSDLs define them (docs/protocol.md §1.2,
 * §1.3): path, target namespace, whether children are qualified, request and response elements,
 * and the WSDL/XSD files served at `?wsdl`. This is the one place where the official (Italian)
 * service and element names meet the simulator's English operation names.
 */

export const OPERATIONS = [
  'upload',
  'outcome',
  'errorDetail',
  'pdfReceipt',
  'insert',
  'update',
  'refund',
  'cancel',
  'pointQuery',
  'monthlyReport',
  'citizenReportDetail',
  'citizenReportList',
] as const;
export type OperationName = (typeof OPERATIONS)[number];

export interface OperationDefinition {
  name: OperationName;
  /** The WSDL operation name (`inviaFileMtom`, `Inserimento` …). */
  wsdlName: string;
  requestElement: string;
  responseElement: string;
  /** From the WSDL binding; the simulator does not require it to match (WS-I clients differ here). */
  soapAction: string;
}

export interface ServiceDefinition {
  id: ServiceId;
  path: string;
  namespace: string;
  /** `elementFormDefault="qualified"`: children of the wrapper are in the namespace too. */
  qualified: boolean;
  /** Relative to `TracciatiWS/` in the kit. */
  wsdlFile: string;
  xsdFile: string;
  operations: readonly OperationDefinition[];
}

export type ServiceId =
  | 'upload'
  | 'outcome'
  | 'errorDetail'
  | 'pdfReceipt'
  | 'singleDocument'
  | 'pointQuery'
  | 'monthlyReport'
  | 'citizenReportDetail'
  | 'citizenReportList';

const operation = (
  name: OperationName,
  wsdlName: string,
  requestElement: string,
  responseElement: string,
  soapAction = '',
): OperationDefinition => ({ name, wsdlName, requestElement, responseElement, soapAction });

export const SERVICES: readonly ServiceDefinition[] = [
  {
    id: 'upload',
    path: '/InvioTelematicoSS730pMtomWeb/InvioTelematicoSS730pMtomPort',
    namespace: 'http://ejb.invioTelematicoSS730p.sanita.finanze.it/',
    qualified: false,
    wsdlFile: 'WS_AsincronoInvioDati730/InvioTelematicoSpeseSanitarie730p.wsdl',
    xsdFile: 'WS_AsincronoInvioDati730/InvioTelematicoSpeseSanitarie730p_schema1.xsd',
    operations: [operation('upload', 'inviaFileMtom', 'inviaFileMtom', 'inviaFileMtomResponse')],
  },
  {
    id: 'outcome',
    path: '/EsitoStatoInviiWEB/EsitoInvioDatiSpesa730Service',
    namespace: 'http://esitoinvio.p730.sanita.sogei.it/',
    qualified: false,
    wsdlFile: 'WS_Ricevute/EsitoInvio/EsitoInvioDatiSpesa730Service.wsdl',
    xsdFile: 'WS_Ricevute/EsitoInvio/EsitoInvioDatiSpesa730Service_schema.xsd',
    operations: [operation('outcome', 'EsitoInvii', 'EsitoInvii', 'EsitoInviiResponse')],
  },
  {
    id: 'errorDetail',
    path: '/EsitoStatoInviiWEB/DettaglioErrori730Service',
    namespace: 'http://dettaglioerrori.p730.sanita.sogei.it/',
    qualified: false,
    wsdlFile: 'WS_Ricevute/DettaglioErrori-CSV/DettaglioErrori730Service.wsdl',
    xsdFile: 'WS_Ricevute/DettaglioErrori-CSV/DettaglioErrori730Service_schema.xsd',
    operations: [operation('errorDetail', 'DettaglioErrori', 'DettaglioErrori', 'DettaglioErroriResponse')],
  },
  {
    id: 'pdfReceipt',
    path: '/Ricevute730ServiceWeb/ricevutePdf',
    namespace: 'http://ricevutapdf.p730.sanita.sogei.it/',
    qualified: false,
    wsdlFile: 'WS_Ricevute/RicevutoPDF/RicevutaPdf730Service.wsdl',
    xsdFile: 'WS_Ricevute/RicevutoPDF/RicevutaPdf730Service_schema.xsd',
    operations: [operation('pdfReceipt', 'RicevutaPdf', 'RicevutaPdf', 'RicevutaPdfResponse')],
  },
  {
    id: 'singleDocument',
    path: '/DocumentoSpesa730pWeb/DocumentoSpesa730pPort',
    namespace: 'http://documentospesap730.sanita.finanze.it',
    qualified: true,
    wsdlFile: 'WS_SincronoSingoloDato730/DocumentoSpesa730p.wsdl',
    xsdFile: 'WS_SincronoSingoloDato730/DocumentoSpesa730pSchema.xsd',
    operations: [
      operation(
        'insert',
        'Inserimento',
        'inserimentoDocumentoSpesaRequest',
        'inserimentoDocumentoSpesaResponse',
        'inserimento.documentospesap730.sanita.finanze.it',
      ),
      operation(
        'update',
        'Variazione',
        'variazioneDocumentoSpesaRequest',
        'variazioneDocumentoSpesaResponse',
        'variazione.documentospesap730.sanita.finanze.it',
      ),
      operation(
        'refund',
        'Rimborso',
        'rimborsoDocumentoSpesaRequest',
        'rimborsoDocumentoSpesaResponse',
        'rimborso.documentospesap730.sanita.finanze.it',
      ),
      operation(
        'cancel',
        'Cancellazione',
        'cancellazioneDocumentoSpesaRequest',
        'cancellazioneDocumentoSpesaResponse',
        'cancellazione.documentospesap730.sanita.finanze.it',
      ),
    ],
  },
  {
    id: 'pointQuery',
    path: '/InterrogazionePuntuale730Web/InterrogazionePuntuale730Port',
    namespace: 'http://interrogazionepuntuale.p730.sanita.finanze.it',
    qualified: true,
    wsdlFile: 'WS_Interrogazioni/InterrogazionePuntuale730Service.wsdl',
    xsdFile: 'WS_Interrogazioni/InterrogazionePuntuale730Service_schema.xsd',
    operations: [
      operation(
        'pointQuery',
        'InterrogazionePuntuale',
        'interrogazionePuntualeRequest',
        'interrogazionePuntualeResponse',
        'interrogazionepuntuale.p730.sanita.finanze.it',
      ),
    ],
  },
  {
    id: 'monthlyReport',
    path: '/ReportMensile730Web/ReportMensilePort',
    namespace: 'http://reportmensile.p730.sanita.finanze.it',
    qualified: true,
    wsdlFile: 'WS_Interrogazioni/ReportMensile730Service.wsdl',
    xsdFile: 'WS_Interrogazioni/ReportMensile730Service_schema.xsd',
    operations: [
      operation(
        'monthlyReport',
        'ReportMensile',
        'reportMensileRequest',
        'reportMensileResponse',
        'reportmensile.p730.sanita.finanze.it',
      ),
    ],
  },
  {
    id: 'citizenReportDetail',
    path: '/Interrogazioni730pWeb/DettaglioSegnalazione730pPort',
    namespace: 'http://dettagliosegnalazione.p730.sanita.finanze.it',
    qualified: true,
    wsdlFile: 'WS_Segnalazioni_Cittadino/DettaglioSegnalazione730Service.wsdl',
    xsdFile: 'WS_Segnalazioni_Cittadino/DettaglioSegnalazione730Service_schema.xsd',
    operations: [
      operation(
        'citizenReportDetail',
        'DettaglioSegnalazione',
        'dettaglioSegnalazioneRequest',
        'dettaglioSegnalazioneResponse',
        'dettagliosegnalazione.p730.sanita.finanze.it',
      ),
    ],
  },
  {
    id: 'citizenReportList',
    path: '/Interrogazioni730pWeb/ReportSegnalazioni730pPort',
    namespace: 'http://reportsegnalazioni.p730.sanita.finanze.it',
    qualified: true,
    wsdlFile: 'WS_Segnalazioni_Cittadino/ReportSegnalazioni730Service.wsdl',
    xsdFile: 'WS_Segnalazioni_Cittadino/ReportSegnalazioni730Service_schema.xsd',
    operations: [
      operation(
        'citizenReportList',
        'ReportSegnalazioni',
        'reportSegnalazioniRequest',
        'reportSegnalazioniResponse',
        'reportsegnalazioni.p730.sanita.finanze.it',
      ),
    ],
  },
];

/** Every service is also reachable under these prefixes (§1.2: client certificates, Entratel). */
export const PATH_PREFIXES = ['', '/entrate', '/enti'] as const;
export type PathPrefix = (typeof PATH_PREFIXES)[number];

/** The batch file's schema, used to validate uploaded files during processing. */
export const PRECOMPILATA_XSD = 'WS_AsincronoInvioDati730/schemaFileAllegatoInvio/730_precompilata.xsd';

export const SOAP_ENVELOPE_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_ENVELOPE_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const XOP_NS = 'http://www.w3.org/2004/08/xop/include';

export function serviceById(id: ServiceId): ServiceDefinition {
  const service = SERVICES.find((candidate) => candidate.id === id);
  if (!service) throw new Error(`unknown service ${id}`);
  return service;
}

export function operationByName(name: OperationName): {
  service: ServiceDefinition;
  op: OperationDefinition;
} {
  for (const service of SERVICES) {
    const op = service.operations.find((candidate) => candidate.name === name);
    if (op) return { service, op };
  }
  throw new Error(`unknown operation ${name}`);
}

/**
 * Accepts our English operation names and the official WSDL names (`inviaFileMtom`, `Inserimento`,
 * `EsitoInvii` …), case-insensitively: whatever an operator types into the admin API.
 */
export function resolveOperationName(input: string): OperationName | undefined {
  const wanted = input.trim().toLowerCase();
  for (const service of SERVICES) {
    for (const op of service.operations) {
      if (
        op.name.toLowerCase() === wanted ||
        op.wsdlName.toLowerCase() === wanted ||
        op.requestElement.toLowerCase() === wanted
      ) {
        return op.name;
      }
    }
  }
  return undefined;
}
