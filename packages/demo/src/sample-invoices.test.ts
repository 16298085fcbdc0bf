import { checkTaxCode } from '@sts/shared';
import { validateExpenseDocument } from '@sts/sts';
import { describe, expect, it } from 'vitest';
import { sampleInvoices } from './sample-invoices.ts';

const options = {
  documents: 1000,
  today: '2026-12-07',
  vatNumber: '98765432103',
};

describe('the demo sample', () => {
  it('is the same file for the same size and day, so a second run finds it sent', () => {
    expect(sampleInvoices(options).lines).toEqual(sampleInvoices(options).lines);
  });

  it('mixes opposition, a closed year, corrections and cancellations', () => {
    const { lines, counts } = sampleInvoices(options);
    const events = lines.map((line) => JSON.parse(line));
    expect(counts.inserts).toBe(1000);
    expect(lines).toHaveLength(counts.inserts + counts.updates + counts.cancels);
    expect(counts.closedYear).toBeGreaterThan(0);
    expect(counts.updates).toBeGreaterThan(0);
    expect(counts.cancels).toBeGreaterThan(0);
    const inserts = events.filter((event) => event.operation === 'insert');
    expect(new Set(inserts.map((event) => event.document.id.vatNumber))).toEqual(new Set(['98765432103']));
    expect(inserts.some((event) => event.document.patient.kind === 'opposed')).toBe(true);
    // Every correction and cancellation is of a document inserted before it.
    const keys = inserts.map((event) => JSON.stringify(event.document.id));
    events.forEach((event, index) => {
      if (event.operation !== 'insert')
        expect(keys.indexOf(JSON.stringify(event.document.id))).toBeLessThan(index);
    });
  });

  it('dates the documents in the tax year up to today, but the closed-year ones, and gives valid patients', () => {
    const { lines } = sampleInvoices(options);
    for (const event of lines.map((line) => JSON.parse(line)).filter((e) => e.operation === 'insert')) {
      const { issueDate } = event.document.id;
      expect(issueDate <= options.today).toBe(true);
      expect(['2026', '2024']).toContain(issueDate.slice(0, 4));
      if (event.document.patient.kind === 'identified')
        expect(checkTaxCode(event.document.patient.taxCode).ok).toBe(true);
      const checked = validateExpenseDocument(
        { ...event.document, operation: 'insert' },
        { today: options.today },
      );
      // Only the closed-year documents are flagged (the STS decides: S035); the others pass clean.
      if (issueDate.startsWith('2026')) expect(checked, JSON.stringify(checked)).toMatchObject({ ok: true });
    }
  });
});
