import type { ExpenseType } from '@sts/sts';

/**
 * One kit test user per category (sts-kit `Soggetto…/UtenzeTest….txt` and `Delegati/…`; summary in
 * docs/protocol.md §2.5), with the owner they send for and an expense type their category uses.
 */
export interface KitCategory {
  category: string;
  user: string;
  password: string;
  pincode: string;
  /** Entratel intermediaries send their PIN in clear and their site in `opzionale1` (§2.1). */
  entratel?: { site: string };
  owner: { taxCode: string; office?: { regionCode: string; aslCode: string; ssaCode: string } };
  vatNumber: string;
  expenseType: ExpenseType;
}

export const KIT_CATEGORIES: KitCategory[] = [
  {
    category: 'medico',
    user: 'PROVAX00X00X000Y',
    password: 'Salve123',
    pincode: '1234567890',
    owner: { taxCode: 'PROVAX00X00X000Y' },
    vatNumber: '01201200121',
    expenseType: 'SR',
  },
  {
    category: 'psicologo / altri professionisti',
    user: 'MTOMRA66A41G224M',
    password: 'Salve123',
    pincode: '3489543096',
    owner: { taxCode: 'MTOMRA66A41G224M' },
    vatNumber: '65498732105',
    expenseType: 'SP',
  },
  {
    category: 'infermiere',
    user: 'PPRPLT00A01H501I',
    password: 'Salve123',
    pincode: '1792525399',
    owner: { taxCode: 'PPRPLT00A01H501I' },
    vatNumber: '87654321098',
    expenseType: 'SP',
  },
  {
    category: 'ostetrica',
    user: 'PPRPRN99A41H501N',
    password: 'Salve123',
    pincode: '2755553951',
    owner: { taxCode: 'PPRPRN99A41H501N' },
    vatNumber: '76543210987',
    expenseType: 'SP',
  },
  {
    category: 'radiologo',
    user: 'QUIQQU98A01H501H',
    password: 'Salve123',
    pincode: '3167676525',
    owner: { taxCode: 'QUIQQU98A01H501H' },
    vatNumber: '65432109876',
    expenseType: 'SP',
  },
  {
    category: 'veterinario',
    user: 'PNIMRA70A01H501P',
    password: 'Salve123',
    pincode: '1492034195',
    owner: { taxCode: 'PNIMRA70A01H501P' },
    vatNumber: '98765432105',
    expenseType: 'SV',
  },
  {
    category: 'struttura autorizzata',
    user: 'ASC7Y72S',
    password: 'Salve123',
    pincode: '6879239056',
    owner: { taxCode: 'PROVAX00X00X000Y', office: { regionCode: '601', aslCode: '120', ssaCode: '010008' } },
    vatNumber: '98765432101',
    expenseType: 'SR',
  },
  {
    category: 'struttura autorizzata vendita al dettaglio',
    user: 'A12DZ3UP',
    password: 'Salve123',
    pincode: '3892871271',
    owner: { taxCode: 'PROVAX00X00X000Y', office: { regionCode: '602', aslCode: '120', ssaCode: '010009' } },
    vatNumber: '98765432102',
    expenseType: 'AD',
  },
  {
    category: 'parafarmacia',
    user: 'AWG7L09T',
    password: 'Salve123',
    pincode: '2864543493',
    owner: { taxCode: 'PROVAX00X00X000Y', office: { regionCode: '603', aslCode: '120', ssaCode: '010010' } },
    vatNumber: '98765432103',
    expenseType: 'FC',
  },
  {
    category: 'ottico',
    user: 'A9AZOS61',
    password: 'Salve123',
    pincode: '5485370458',
    owner: { taxCode: 'PROVAX00X00X000Y', office: { regionCode: '604', aslCode: '120', ssaCode: '010011' } },
    vatNumber: '98765432104',
    expenseType: 'AA',
  },
  {
    category: 'farmacia',
    user: 'UV386Q5B',
    password: 'SALVE',
    pincode: '1729594276',
    owner: { taxCode: 'BBTMRZ54L19H501T', office: { regionCode: '130', aslCode: '204', ssaCode: '78909' } },
    vatNumber: '01201200121',
    expenseType: 'FC',
  },
  {
    category: 'struttura accreditata',
    user: 'UXN6VMDD',
    password: 'P2SPDVF4',
    pincode: '1426073406',
    owner: { taxCode: 'CCSRMO77A09H501E', office: { regionCode: '020', aslCode: '101', ssaCode: '888888' } },
    vatNumber: '03213213210',
    expenseType: 'SR',
  },
  {
    category: 'delegato associazione di categoria',
    user: 'UYIIY4SD',
    password: 'P3FHUTTY',
    pincode: '3194575787',
    owner: { taxCode: 'BBTMRZ54L19H501T', office: { regionCode: '130', aslCode: '201', ssaCode: '88888' } },
    vatNumber: '01201200121',
    expenseType: 'FC',
  },
  {
    category: 'delegato fiscale (Entratel)',
    user: 'MSSSMN78C13C773M',
    password: 'sotcat00',
    pincode: '4B64AA1D',
    entratel: { site: '07874631000-000' },
    owner: { taxCode: 'FBNFBA62S28H501F' },
    vatNumber: '00265910661',
    expenseType: 'SR',
  },
];
