import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SimulatorUserInput } from './simulator-user.ts';

/**
 * Reads the test users published in the official kit (`Soggetto*∕UtenzeTest*.txt`,
 * `Delegati∕**∕UtenzeTest*.txt`, docs/protocol.md §2.5) instead of copying them: user, password,
 * pincode, owner data, delegations, and the kit's pre-encrypted pincode and owner CF (made with the
 * real SanitelCF key, so they are mapped to their plaintext rather than decrypted).
 */

export interface KitUsers {
  users: SimulatorUserInput[];
  /** Kit ciphertext → plaintext. */
  ciphertexts: Map<string, string>;
}

const KIT_FOLDER = 'kit730P_ver_20201218';

function findUserFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) found.push(...findUserFiles(full));
    else if (/^UtenzeTest.*\.txt$/i.test(entry)) found.push(full);
  }
  return found.sort();
}

interface RawRecord {
  title: string;
  fields: Map<string, string>;
}

/**
 * Splits a kit file into records. A record starts at a title (a line underlined with dashes) and
 * holds the key/value lines up to the next title; some files put `Codice ufficio:` before `User:`,
 * so a second `User:` under the same title starts a new record.
 */
function parseRecords(text: string): RawRecord[] {
  const lines = text.split(/\r?\n/).map((line) => line.replace(/\s+$/, ''));
  const records: RawRecord[] = [];
  let current: RawRecord = { title: '', fields: new Map() };
  const flush = () => {
    if (current.fields.has('user')) records.push(current);
  };
  lines.forEach((line, index) => {
    if (/^-{5,}$/.test(line.trim())) return;
    const next = lines[index + 1]?.trim() ?? '';
    if (/^-{5,}$/.test(next) && line.trim() !== '') {
      flush();
      current = { title: line.trim(), fields: new Map() };
      return;
    }
    const match = /^\s*([A-Za-z' ]+?)\s*:\s*(.*?)\s*$/.exec(line);
    if (!match) return;
    const key = match[1]!.toLowerCase();
    const value = match[2]!;
    if (key === 'user' && current.fields.has('user')) {
      flush();
      current = { title: current.title, fields: new Map() };
    }
    if (value !== '') current.fields.set(key, value);
  });
  flush();
  return records;
}

const first = (fields: Map<string, string>, ...keys: string[]) => {
  for (const key of keys) {
    const value = fields.get(key);
    if (value !== undefined) return value;
  }
  return undefined;
};

export function loadKitUsers(kitDir: string): KitUsers {
  const root = path.join(kitDir, KIT_FOLDER);
  const users = new Map<string, SimulatorUserInput>();
  const ciphertexts = new Map<string, string>();

  for (const file of findUserFiles(root)) {
    const folder = path.basename(path.dirname(file));
    const parent = path.basename(path.dirname(path.dirname(file)));
    const group = folder.startsWith('Soggetto') ? folder.slice('Soggetto'.length) : folder;
    const delegateFolder = parent === 'DelegatoFiscale' ? 'DelegatoFiscale' : folder;

    for (const record of parseRecords(readFileSync(file, 'latin1'))) {
      const f = record.fields;
      const username = f.get('user')!.trim();
      const password = f.get('password');
      const pincode = f.get('pincode');
      if (!password || !pincode) continue;
      const vatNumber = first(f, 'partita iva', 'piva');
      const office = f.get('codice ufficio');
      const ownerTaxCode = f.get('cfproprietario');
      const pincodeCiphertext = first(f, 'pincode cifrato', 'picode cifrato');
      const ownerCiphertext = first(f, 'cf proprietario cifrato', 'cfcfproprietario cifrato');
      const category =
        group === 'Farmacia' || group === 'StrutturaAccreditata' ? `${group} ${record.title}` : group;

      let user: SimulatorUserInput;
      let ownerPlain: string | undefined;
      if (delegateFolder === 'DelegatoFiscale') {
        const delegator = f.get('medico delegante');
        ownerPlain = delegator;
        user = {
          username,
          password,
          pincode,
          kind: 'entratel',
          category: 'DelegatoFiscale',
          owner: { taxCode: username },
          delegators: delegator ? [{ taxCode: delegator, ...(vatNumber ? { vatNumber } : {}) }] : [],
          ...(f.get('sede') ? { entratelSite: f.get('sede') } : {}),
        };
      } else if (folder === 'DelegatoAssociazioneCategoria') {
        const codes = [f.get('codiceregione'), f.get('codiceasl'), f.get('codicessa')];
        ownerPlain = ownerTaxCode;
        user = {
          username,
          password,
          pincode,
          kind: 'delegate',
          category: group,
          owner: {},
          delegators: [
            {
              ...(codes.every(Boolean) ? { office: codes.join('-') } : {}),
              ...(ownerTaxCode ? { taxCode: ownerTaxCode } : {}),
              ...(vatNumber ? { vatNumber } : {}),
            },
          ],
        };
      } else if (office) {
        ownerPlain = ownerTaxCode;
        user = {
          username,
          password,
          pincode,
          kind: 'structure',
          category,
          owner: {
            office,
            ...(ownerTaxCode ? { taxCode: ownerTaxCode } : {}),
            ...(vatNumber ? { vatNumber } : {}),
          },
          traceablePaymentExempt: group === 'StrutturaAccreditata',
        };
      } else {
        ownerPlain = username;
        user = {
          username,
          password,
          pincode,
          kind: 'professional',
          category,
          owner: { taxCode: username, ...(vatNumber ? { vatNumber } : {}) },
        };
      }
      const kitCiphertexts = [pincodeCiphertext, ownerCiphertext].filter((value): value is string => !!value);
      user.kitCiphertexts = kitCiphertexts;
      if (pincodeCiphertext) ciphertexts.set(pincodeCiphertext, pincode);
      if (ownerCiphertext && ownerPlain) ciphertexts.set(ownerCiphertext, ownerPlain);

      const existing = users.get(username);
      // Psicologo and AltriProfessionisti share one account in the kit.
      if (existing) existing.category = `${existing.category}/${user.category}`;
      else users.set(username, user);
    }
  }
  return { users: [...users.values()], ciphertexts };
}
