import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';
import { validateEncryptedDocument } from '../documents/validate-document.ts';
import { packPrecompilataFiles } from './file-packer.ts';
import { renderPrecompilataXml } from './precompilata-builder.ts';
import { parsePrecompilataXml, parsePrecompilataZip } from './precompilata-parser.ts';
import { validateAgainstKitSchema } from './xsd-validation.ts';

const EXAMPLES = path.join(stsKitDir(), 'kit730P_ver_20201218/TracciatiWS/EsempiFileXmlInvioAsincrono');
const files = readdirSync(EXAMPLES).filter((name) => name.endsWith('.xml'));
// The kit's identifiers fail the real check digits; its encrypted codes are opaque and kept as-is.
const rules = { allowKitTestIdentifiers: true };

describe('official example files', () => {
  it('are all there', () => {
    expect(files).toHaveLength(14);
  });

  it.each(files)('%s parses, validates, and rebuilds to an equivalent document', async (name) => {
    const original = readFileSync(path.join(EXAMPLES, name));
    const parsed = parsePrecompilataXml(original);
    expect(parsed.documents.length).toBeGreaterThan(0);
    for (const document of parsed.documents)
      expect(validateEncryptedDocument(document, rules)).toMatchObject({ ok: true });

    const rebuilt = await renderPrecompilataXml(parsed.documents, { sender: parsed.sender, rules });
    expect(parsePrecompilataXml(rebuilt)).toEqual(parsed);
    // The opaque ciphertexts are carried over byte for byte.
    const ciphertexts = (xml: string) =>
      [...xml.matchAll(/<cf(?:Cittadino|Proprietario)>([^<]+)</g)].map((m) => m[1]);
    expect(ciphertexts(rebuilt)).toEqual(ciphertexts(original.toString('utf8')));

    // And as a zip, the way it is uploaded.
    const packed = [];
    for await (const file of packPrecompilataFiles(parsed.documents, { sender: parsed.sender, rules }))
      packed.push(file);
    expect(packed).toHaveLength(1);
    const unzipped = parsePrecompilataZip(packed[0]!.bytes);
    expect({ sender: unzipped.sender, documents: unzipped.documents }).toEqual(parsed);
  });

  it('the originals and their rebuilds all pass 730_precompilata.xsd', async () => {
    const inputs = [];
    for (const name of files) {
      const original = readFileSync(path.join(EXAMPLES, name), 'utf8');
      const parsed = parsePrecompilataXml(original);
      inputs.push({ fileName: name, contents: original });
      inputs.push({
        fileName: `rebuilt-${name}`,
        contents: await renderPrecompilataXml(parsed.documents, { sender: parsed.sender, rules }),
      });
    }
    const result = await validateAgainstKitSchema('precompilata', inputs);
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('known content of the doctor example', () => {
    const parsed = parsePrecompilataXml(readFileSync(path.join(EXAMPLES, 'medico.xml')));
    expect(parsed.sender).toEqual({
      kind: 'professional',
      taxCode: { encrypted: expect.stringMatching(/^Ix4Ozm/) },
    });
    expect(parsed.documents).toEqual([
      {
        id: { vatNumber: '00265910661', issueDate: '2020-12-20', device: 1, number: '1234567' },
        operation: 'insert',
        paymentDate: '2020-12-20',
        patient: { kind: 'identified', taxCode: { encrypted: expect.stringMatching(/^iKvd9JQ.{165}$/) } },
        traceablePayment: false,
        documentType: 'invoice',
        lines: [
          { expenseType: 'SR', amount: '52.01', vatRate: '10.00' },
          { expenseType: 'SR', amount: '81.01', vatRate: '10.00' },
        ],
      },
    ]);
    const pharmacy = parsePrecompilataXml(readFileSync(path.join(EXAMPLES, 'farmacia.xml')));
    expect(pharmacy.sender).toMatchObject({
      kind: 'structure',
      regionCode: '130',
      aslCode: '204',
      ssaCode: '78909',
    });
  });
});
