import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';
import {
  assertArchiveName,
  createZipArchive,
  createZipWriter,
  entryNameFor,
  isValidArchiveName,
  readZipArchive,
  readZipEntries,
  ZipArchiveError,
} from './zip-archive.ts';

const codeOf = (action: () => unknown) => {
  try {
    action();
  } catch (error) {
    return error instanceof ZipArchiveError ? error.code : String(error);
  }
  return 'ok';
};

/** The zip attached to the kit's SoapUI upload sample (SoapUI stores attachments inside a zip of its own). */
function kitSampleZip(): Buffer {
  const project = readFileSync(
    path.join(stsKitDir(), 'kit730P_ver_20201218/SoggettoMedico/730Medico-soapui-project.xml'),
    'utf8',
  );
  const data = /<con:data>([^<]+)<\/con:data>/.exec(project)![1]!;
  const outer = Buffer.from(data, 'base64');
  // The SoapUI wrapper uses a data descriptor, so read its single deflated entry by hand.
  const nameLength = outer.readUInt16LE(26);
  const extraLength = outer.readUInt16LE(28);
  return zlib.inflateRawSync(outer.subarray(30 + nameLength + extraLength));
}

describe('zip archives', () => {
  it('round-trips one XML entry with sizes and CRC in the local header, no data descriptor', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?>\n<precompilata/>\n';
    const zip = createZipArchive('prova.xml', xml, { modifiedAt: new Date('2025-06-01T10:00:00Z') });
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    expect(zip.readUInt16LE(4)).toBe(20); // version needed
    expect(zip.readUInt16LE(6)).toBe(0); // flags
    expect(zip.readUInt16LE(8)).toBe(8); // deflate
    expect(zip.readUInt32LE(14)).toBe(zlib.crc32(xml) >>> 0);
    expect(zip.readUInt32LE(22)).toBe(Buffer.byteLength(xml));
    // 12:00 in Rome on 2025-06-01, as MS-DOS date and time.
    expect(zip.readUInt16LE(12)).toBe(((2025 - 1980) << 9) | (6 << 5) | 1);
    expect(zip.readUInt16LE(10)).toBe(12 << 11);
    expect(readZipArchive(zip)).toEqual({ entryName: 'prova.xml', content: Buffer.from(xml) });
  });

  it('reads the kit sample zip (made by another tool) the same way', () => {
    const { entryName, content } = readZipArchive(kitSampleZip());
    expect(entryName).toBe('provaMedico.xml');
    expect(content.toString('utf8')).toContain('<precompilata');
  });

  it('compresses incrementally into one valid deflate stream, as small as a one-shot deflate', () => {
    const chunks = Array.from({ length: 400 }, (_, i) =>
      Buffer.from(
        `<documentoSpesa><numDocumento>${i}</numDocumento><cf>${randomBytes(128).toString('base64')}</cf></documentoSpesa>\n`,
      ),
    );
    const writer = createZipWriter({ entryName: 'big.xml' });
    chunks.forEach((chunk, index) => {
      writer.write(chunk);
      if (index % 20 === 19) writer.flush();
    });
    const zip = writer.finish();
    const all = Buffer.concat(chunks);
    expect(readZipArchive(zip).content.equals(all)).toBe(true);
    expect(zip.length).toBeLessThan(zlib.deflateRawSync(all).length * 1.02 + 200);
  });

  it('the size bound never underestimates the finished archive', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 70_000 }), fc.boolean(), fc.boolean()), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 9 }),
        (writes, level) => {
          const data = writes.map(([size, random]) => (random ? randomBytes(size) : Buffer.alloc(size, 'a')));
          // For every prefix: the bound taken before its last write covers the archive finished right after it.
          for (let end = 1; end <= writes.length; end++) {
            const writer = createZipWriter({ entryName: 'x.xml', level });
            let bound = 0;
            for (let i = 0; i < end; i++) {
              bound = writer.sizeBound(data[i]!.length);
              writer.write(data[i]!);
              if (writes[i]![2]) writer.flush();
            }
            expect(writer.finish().length).toBeLessThanOrEqual(bound);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses what is not exactly one readable file', () => {
    const good = createZipArchive('a.xml', 'hello hello hello');
    expect(codeOf(() => readZipArchive(Buffer.alloc(0)))).toBe('zip.empty');
    expect(
      codeOf(() => readZipArchive(Buffer.from('<precompilata/> definitely not a zip file at all'))),
    ).toBe('zip.invalid');
    expect(codeOf(() => readZipArchive(good.subarray(0, good.length - 30)))).toBe('zip.invalid');
    const twoEntries = Buffer.from(good);
    const end = twoEntries.length - 22;
    twoEntries.writeUInt16LE(2, end + 8);
    twoEntries.writeUInt16LE(2, end + 10);
    // A directory that claims two entries but holds one is damaged (real two-file zips: below).
    expect(codeOf(() => readZipArchive(twoEntries))).toBe('zip.invalid');
    const corrupt = Buffer.from(good);
    corrupt.writeUInt32LE((corrupt.readUInt32LE(14) ^ 1) >>> 0, 14);
    const centralOffset = corrupt.readUInt32LE(corrupt.length - 6);
    corrupt.writeUInt32LE((corrupt.readUInt32LE(centralOffset + 16) ^ 1) >>> 0, centralOffset + 16);
    expect(codeOf(() => readZipArchive(corrupt))).toBe('zip.crc');
    const encrypted = Buffer.from(good);
    encrypted.writeUInt16LE(1, centralOffset + 8);
    expect(codeOf(() => readZipArchive(encrypted))).toBe('zip.unsupported');
    expect(codeOf(() => readZipArchive(good, { maxUncompressedBytes: 5 }))).toBe('zip.too-large');
  });

  it('a zip bomb stops at the size its header declares, not at the overall limit', () => {
    const archive = createZipArchive('bomb.xml', Buffer.alloc(8 * 1024 * 1024));
    // Declare 10 bytes in both headers: the entry must not inflate past them.
    const central = archive.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    archive.writeUInt32LE(10, central + 24);
    archive.writeUInt32LE(10, 22);
    expect(() => readZipArchive(archive)).toThrow(expect.objectContaining({ code: 'zip.invalid' }));
  });

  it('reads every entry of a multi-file zip (the STS may put several CSVs in one)', () => {
    const files = [
      { name: 'errori-1.csv', content: Buffer.from('A;B\n1;2\n') },
      { name: 'errori-2.csv', content: Buffer.from('A;B\n3;4\n') },
    ];
    expect(readZipEntries(storedZip(files))).toEqual(
      files.map((f) => ({ entryName: f.name, content: f.content })),
    );
    expect(() => readZipArchive(storedZip(files))).toThrow(expect.objectContaining({ code: 'zip.entries' }));
    expect(() => readZipEntries(storedZip(files), { maxUncompressedBytes: 10 })).toThrow(
      expect.objectContaining({ code: 'zip.too-large' }),
    );
  });

  it('archive names: 6–60 safe characters ending in .zip', () => {
    for (const name of ['a1.zip', 'spese730_0001.zip', `${'x'.repeat(56)}.zip`])
      expect(isValidArchiveName(name)).toBe(true);
    for (const name of [
      'a.zip',
      `${'x'.repeat(57)}.zip`,
      'file.xml',
      'dir/file.zip',
      'spazio file.zip',
      'è.zip',
      'file.ZIP',
    ]) {
      expect(isValidArchiveName(name)).toBe(false);
    }
    expect(codeOf(() => assertArchiveName('a.zip'))).toBe('zip.name');
    expect(entryNameFor('spese730_0001.zip')).toBe('spese730_0001.xml');
  });
});

/** A zip of stored (uncompressed) entries, built by hand from the format, to test reading several. */
function storedZip(files: { name: string; content: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'latin1');
    const crc = zlib.crc32(file.content) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(file.content.length, 18);
    local.writeUInt32LE(file.content.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(file.content.length, 20);
    central.writeUInt32LE(file.content.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, file.content);
    centrals.push(central, name);
    offset += local.length + name.length + file.content.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
