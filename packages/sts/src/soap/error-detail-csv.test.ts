import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';
import { ErrorDetailCsvError, parseErrorDetailCsv } from './error-detail-csv.ts';

describe('parseErrorDetailCsv', () => {
  it('reads the real DettaglioErrori file, extra empty column and all', () => {
    const bytes = readFileSync(join(stsKitDir(), 'error-tables/DettaglioErrori_example_REDACTED.csv'));
    const errors = parseErrorDetailCsv(bytes);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toEqual({
      ownerTaxCode: 'XXXXXX00X00X000X',
      regionCode: '',
      aslCode: '',
      ssaCode: '',
      vatNumber: '00000000000',
      issueDate: '2016-12-21',
      device: '1',
      number: '2016/0035',
      expenseType: '',
      code: 'S011',
      description: 'IL CF DEL CITTADINO RISULTA FORMALMENTE ERRATO',
    });
  });

  it('decodes Latin-1 and keeps a description that contains the separator', () => {
    const csv =
      'CF PROPRIETARIO; COD REGIONE; COD ASL; COD SSA; PARTITA IVA; DATA EMISSIONE; DOCUMENTO FISCALE DISPOSITIVO; DOCUMENTO FISCALE NUMERO;; TIPO SPESA; CODICE ERRORE; DESCRIZIONE ERRORE\r\n' +
      ';130;201;888888;01201200121;02/03/2021;1;A-7;;FC;W010;IL DOCUMENTO E\u0027 STATO ANNULLATO; PERCHÉ\r\n';
    const [row] = parseErrorDetailCsv(Buffer.from(csv, 'latin1'));
    expect(row).toMatchObject({
      regionCode: '130',
      expenseType: 'FC',
      issueDate: '2021-03-02',
      code: 'W010',
    });
    expect(row!.description).toBe("IL DOCUMENTO E' STATO ANNULLATO; PERCHÉ");
  });

  it('refuses a file without the official columns', () => {
    expect(() => parseErrorDetailCsv(Buffer.from('A;B\n1;2\n'))).toThrow(ErrorDetailCsvError);
  });
});
