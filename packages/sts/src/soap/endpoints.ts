import path from 'node:path';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';

/**
 * Where the Sistema TS services live (docs/protocol.md §1.2). Every environment has the same paths;
 * credentials authenticated by an Entratel intermediary use the `/entrate/` variant, those with a
 * Sogei client certificate (Regioni, enti) the `/enti/` variant.
 */
export const STS_SERVICES = {
  upload: {
    path: '/InvioTelematicoSS730pMtomWeb/InvioTelematicoSS730pMtomPort',
    wsdl: 'WS_AsincronoInvioDati730/InvioTelematicoSpeseSanitarie730p.wsdl',
  },
  outcome: {
    path: '/EsitoStatoInviiWEB/EsitoInvioDatiSpesa730Service',
    wsdl: 'WS_Ricevute/EsitoInvio/EsitoInvioDatiSpesa730Service.wsdl',
  },
  errorDetail: {
    path: '/EsitoStatoInviiWEB/DettaglioErrori730Service',
    wsdl: 'WS_Ricevute/DettaglioErrori-CSV/DettaglioErrori730Service.wsdl',
  },
  pdfReceipt: {
    path: '/Ricevute730ServiceWeb/ricevutePdf',
    wsdl: 'WS_Ricevute/RicevutoPDF/RicevutaPdf730Service.wsdl',
  },
  singleDocument: {
    path: '/DocumentoSpesa730pWeb/DocumentoSpesa730pPort',
    wsdl: 'WS_SincronoSingoloDato730/DocumentoSpesa730p.wsdl',
  },
  pointQuery: {
    path: '/InterrogazionePuntuale730Web/InterrogazionePuntuale730Port',
    wsdl: 'WS_Interrogazioni/InterrogazionePuntuale730Service.wsdl',
  },
  monthlyReport: {
    path: '/ReportMensile730Web/ReportMensilePort',
    wsdl: 'WS_Interrogazioni/ReportMensile730Service.wsdl',
  },
  /** `DettaglioSegnalazione`: the citizens' reports about one document. */
  citizenReportDetail: {
    path: '/Interrogazioni730pWeb/DettaglioSegnalazione730pPort',
    wsdl: 'WS_Segnalazioni_Cittadino/DettaglioSegnalazione730Service.wsdl',
  },
  /** `ReportSegnalazioni`: the citizens' reports filed in a period, as a file. */
  citizenReportList: {
    path: '/Interrogazioni730pWeb/ReportSegnalazioni730pPort',
    wsdl: 'WS_Segnalazioni_Cittadino/ReportSegnalazioni730Service.wsdl',
  },
} as const;

export type StsService = keyof typeof STS_SERVICES;

export const STS_ENVIRONMENTS = {
  test: 'https://invioSS730pTest.sanita.finanze.it',
  production: 'https://invioSS730p.sanita.finanze.it',
} as const;

/** `standard`: Basic auth or CNS; `entrate`: Entratel intermediaries; `enti`: Sogei client certificates. */
export type EndpointVariant = 'standard' | 'entrate' | 'enti';

const VARIANT_PREFIX: Record<EndpointVariant, string> = { standard: '', entrate: '/entrate', enti: '/enti' };

/** The official developer kit inside `stsKitDir()`: `STS_KIT_DIR`, or the kit this package carries. */
const DEVELOPER_KIT_DIR = path.join(stsKitDir(), 'kit730P_ver_20201218');

/** The official WSDL and XSD files (`TracciatiWS/` of the kit), the same the simulator serves. */
const PROTOCOL_DIR = path.join(DEVELOPER_KIT_DIR, 'TracciatiWS') + path.sep;

/** The kit's test CA, trusted for the test environment only. */
export const TEST_ENVIRONMENT_CA = path.join(
  DEVELOPER_KIT_DIR,
  'certificatiFirma',
  'CAAgenziadelleEntrateTest.pem',
);

export function wsdlPath(service: StsService): string {
  return PROTOCOL_DIR + STS_SERVICES[service].wsdl;
}

/** `baseUrl`: one of `STS_ENVIRONMENTS`, or the simulator's address. */
export function endpointUrl(baseUrl: string, variant: EndpointVariant, service: StsService): string {
  return baseUrl.replace(/\/+$/, '') + VARIANT_PREFIX[variant] + STS_SERVICES[service].path;
}
