/**
 * The DettaglioErrori CSV (RIC15 §3.5; a real file: packages/sts/kit/error-tables): Latin-1, `;`-separated,
 * one row per document error, dates `dd/mm/yyyy`. The real header has an extra empty column after
 * DOCUMENTO FISCALE NUMERO, so columns are found by header name, not position.
 */

export interface DocumentError {
  ownerTaxCode: string;
  regionCode: string;
  aslCode: string;
  ssaCode: string;
  vatNumber: string;
  /** `YYYY-MM-DD` (converted from the CSV's `dd/mm/yyyy`); the value as written if it is not a date. */
  issueDate: string;
  device: string;
  number: string;
  expenseType: string;
  /** Code and description exactly as the STS wrote them. */
  code: string;
  description: string;
}

const COLUMNS = {
  ownerTaxCode: 'CF PROPRIETARIO',
  regionCode: 'COD REGIONE',
  aslCode: 'COD ASL',
  ssaCode: 'COD SSA',
  vatNumber: 'PARTITA IVA',
  issueDate: 'DATA EMISSIONE',
  device: 'DOCUMENTO FISCALE DISPOSITIVO',
  number: 'DOCUMENTO FISCALE NUMERO',
  expenseType: 'TIPO SPESA',
  code: 'CODICE ERRORE',
  description: 'DESCRIZIONE ERRORE',
} as const satisfies Record<keyof DocumentError, string>;

export class ErrorDetailCsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ErrorDetailCsvError';
  }
}

const toIsoDate = (value: string) => {
  const match = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(value);
  return match ? `${match[3]}-${match[2]}-${match[1]}` : value;
};

export function parseErrorDetailCsv(bytes: Buffer): DocumentError[] {
  const lines = bytes
    .toString('latin1')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
  const [header, ...rows] = lines;
  if (!header) return [];
  const names = header.split(';').map((name) => name.trim().toUpperCase());
  const index = {} as Record<keyof DocumentError, number>;
  for (const [field, name] of Object.entries(COLUMNS) as [keyof DocumentError, string][]) {
    const position = names.indexOf(name);
    if (position === -1) throw new ErrorDetailCsvError(`the error detail has no "${name}" column`);
    index[field] = position;
  }
  return rows.map((row) => {
    const cells = row.split(';');
    const cell = (field: keyof DocumentError) => (cells[index[field]] ?? '').trim();
    // The description is the last column and may itself contain `;`: keep the rest of the row.
    const description = cells.slice(index.description).join(';').trim();
    return {
      ownerTaxCode: cell('ownerTaxCode'),
      regionCode: cell('regionCode'),
      aslCode: cell('aslCode'),
      ssaCode: cell('ssaCode'),
      vatNumber: cell('vatNumber'),
      issueDate: toIsoDate(cell('issueDate')),
      device: cell('device'),
      number: cell('number'),
      expenseType: cell('expenseType'),
      code: cell('code'),
      description,
    };
  });
}
