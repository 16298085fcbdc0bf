import { describe, expect, it } from 'vitest';
import { readPdf } from '../../test-support/pdf-text.ts';
import { writePdf } from './pdf-writer.ts';

describe('writePdf', () => {
  it('writes a PDF 1.4 that a reader opens, with its title, producer and creation date', async () => {
    const pdf = writePdf({
      title: 'Ricevuta',
      lines: [{ text: 'Protocollo: 99261122000000001', bold: true }],
      createdAt: new Date('2026-11-22T10:00:00Z'),
    });
    expect(pdf.subarray(0, 9).toString('latin1')).toBe('%PDF-1.4\n');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    const read = await readPdf(pdf);
    expect(read.pages).toBe(1);
    expect(read.lines).toEqual(['Protocollo: 99261122000000001']);
    expect(read.info).toMatchObject({
      PDFFormatVersion: '1.4',
      Title: 'Ricevuta',
      Producer: 'STS simulator',
      CreationDate: 'D:20261122100000Z',
    });
  });

  it('prints parentheses, backslashes, accented letters and the CP1252 extras; ? for what WinAnsi lacks', async () => {
    const pdf = writePdf({ title: 't', lines: [{ text: 'Perché (sì) \\ l’€ ✓' }], createdAt: new Date() });
    expect((await readPdf(pdf)).lines).toEqual(['Perché (sì) \\ l’€ ?']);
  });

  it('wraps long lines and continues on new pages', async () => {
    const lines = Array.from({ length: 150 }, (_, index) => ({ text: `Riga ${index} ${'x'.repeat(130)}` }));
    const read = await readPdf(writePdf({ title: 'lungo', lines, createdAt: new Date() }));
    expect(read.pages).toBeGreaterThan(3);
    // Each line is too long for the page width: it continues on the next one, nothing lost.
    expect(read.lines.length).toBe(300);
    const joined = read.lines.join('');
    for (const line of lines) expect(joined).toContain(line.text);
  });
});
