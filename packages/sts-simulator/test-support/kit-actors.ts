import { serviceById } from '../src/protocol/services.ts';
import type { TestOwner } from './envelopes.ts';

/** Kit test users (docs/protocol.md §2.5) as the tests use them. */
export interface KitActor {
  user: string;
  password: string;
  pincode: string;
  taxCode: string;
  vatNumber: string;
  office?: Required<Pick<TestOwner, 'regionCode' | 'aslCode' | 'ssaCode'>>;
}

export const MEDICO: KitActor = {
  user: 'PROVAX00X00X000Y',
  password: 'Salve123',
  pincode: '1234567890',
  taxCode: 'PROVAX00X00X000Y',
  vatNumber: '01201200121',
};
export const PSICOLOGO: KitActor = {
  user: 'MTOMRA66A41G224M',
  password: 'Salve123',
  pincode: '3489543096',
  taxCode: 'MTOMRA66A41G224M',
  vatNumber: '65498732105',
};
export const INFERMIERE: KitActor = {
  user: 'PPRPLT00A01H501I',
  password: 'Salve123',
  pincode: '1792525399',
  taxCode: 'PPRPLT00A01H501I',
  vatNumber: '87654321098',
};
export const FARMACIA_ABRUZZO: KitActor = {
  user: 'UV386Q5B',
  password: 'SALVE',
  pincode: '1729594276',
  taxCode: 'BBTMRZ54L19H501T',
  vatNumber: '01201200121',
  office: { regionCode: '130', aslCode: '204', ssaCode: '78909' },
};
export const OTTICO: KitActor = {
  user: 'A9AZOS61',
  password: 'Salve123',
  pincode: '5485370458',
  taxCode: 'PROVAX00X00X000Y',
  vatNumber: '98765432104',
  office: { regionCode: '604', aslCode: '120', ssaCode: '010011' },
};
export const STRUTTURA_ACCREDITATA: KitActor = {
  user: 'UXN6VMDD',
  password: 'P2SPDVF4',
  pincode: '1426073406',
  taxCode: 'CCSRMO77A09H501E',
  vatNumber: '03213213210',
  office: { regionCode: '020', aslCode: '101', ssaCode: '888888' },
};

/** Codici fiscali with correct check characters, for patients. */
export const PATIENTS = ['RSSMRA80A01H501U', 'VRDGPP75C15F205S', 'BNCLRA90D45L219Q'] as const;

export const PATH = {
  upload: serviceById('upload').path,
  outcome: serviceById('outcome').path,
  errorDetail: serviceById('errorDetail').path,
  pdfReceipt: serviceById('pdfReceipt').path,
  singleDocument: serviceById('singleDocument').path,
  pointQuery: serviceById('pointQuery').path,
  monthlyReport: serviceById('monthlyReport').path,
  citizenReportDetail: serviceById('citizenReportDetail').path,
  citizenReportList: serviceById('citizenReportList').path,
} as const;

/** The owner data of an actor, with the codice fiscale as given (clear or already encrypted). */
export function ownerOf(actor: KitActor, taxCode: string): TestOwner {
  return { ...(actor.office ?? {}), taxCode };
}
