import { describe, expect, it } from 'vitest';
import { writePdf } from './pdf-writer.ts';

/** Checks what a reader relies on: header, trailer, startxref → xref, every offset → its object. */
function checkStructure(pdf: Buffer): { objects: number; text: string } {
  const text = pdf.toString('latin1');
  expect(text.startsWith('%PDF-1.4\n')).toBe(true);
  expect(text.endsWith('%%EOF\n')).toBe(true);
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)![1]);
  expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
  const [, first, count] = /^xref\n(\d+) (\d+)\n/.exec(text.slice(startxref))!;
  expect(first).toBe('0');
  const table = text
    .slice(startxref)
    .split('\n')
    .slice(2, 2 + Number(count));
  expect(table[0]).toBe('0000000000 65535 f ');
  table.slice(1).forEach((entry, index) => {
    expect(entry).toMatch(/^\d{10} 00000 n $/);
    const offset = Number(entry.slice(0, 10));
    expect(text.slice(offset).startsWith(`${index + 1} 0 obj\n`)).toBe(true);
  });
  expect(text).toContain(`/Size ${count} /Root 1 0 R`);
  // Every stream's /Length is the exact number of bytes between "stream\n" and "\nendstream".
  for (const match of text.matchAll(/<< \/Length (\d+) >>\nstream\n/g)) {
    const start = match.index + match[0].length;
    expect(text.slice(start + Number(match[1]), start + Number(match[1]) + 10)).toBe('\nendstream');
  }
  return { objects: Number(count) - 1, text };
}

describe('writePdf', () => {
  it('writes a well-formed PDF 1.4 with an exact cross-reference table', () => {
    const { objects, text } = checkStructure(
      writePdf({
        title: 'Ricevuta',
        lines: [{ text: 'Protocollo: 99261122000000001', bold: true }],
        createdAt: new Date('2026-11-22T10:00:00Z'),
      }),
    );
    expect(objects).toBe(7);
    expect(text).toContain('/CreationDate (D:20261122100000Z)');
  });

  it('escapes parentheses and backslashes, and writes accented letters in WinAnsi', () => {
    const pdf = writePdf({ title: 't', lines: [{ text: 'Perché (sì) \\ l’€' }], createdAt: new Date() });
    checkStructure(pdf);
    const expected = Buffer.concat([
      Buffer.from('(Perch', 'latin1'),
      Buffer.from([0xe9]),
      Buffer.from(' \\(s', 'latin1'),
      Buffer.from([0xec]),
      Buffer.from('\\) \\\\ l', 'latin1'),
      Buffer.from([0x92, 0x80]),
      Buffer.from(') Tj', 'latin1'),
    ]);
    expect(pdf.includes(expected)).toBe(true);
  });

  it('wraps long lines and continues on new pages', () => {
    const lines = Array.from({ length: 150 }, (_, index) => ({ text: `Riga ${index} ${'x'.repeat(130)}` }));
    const { text } = checkStructure(writePdf({ title: 'lungo', lines, createdAt: new Date() }));
    const pages = Number(/\/Type \/Pages \/Kids \[[^\]]*\] \/Count (\d+)/.exec(text)![1]);
    expect(pages).toBeGreaterThan(3);
    expect(text).toContain('(Riga 149) Tj');
  });
});
