import { describe, expect, it } from 'vitest';
import { checkTaxCode, decodeOmocodia, taxCodeCheckCharacter } from './tax-code.ts';

// Check characters computed with an independent implementation of the official algorithm.
const VALID = [
  'RSSMRA85T10A562S',
  'VRDGPP80A41H501Y',
  'BNCLRA92M65F205Q',
  'FRRLCU01E22L219A',
  'NREMNL75P03Z133A',
  'GLLNNA63S50D969U',
];
// Omocodic variants: 1, 3 and all 7 digit positions replaced by letters.
const OMOCODIC = [
  'RSSMRA85T10A56NH',
  'RSSMRA85T10ARSNO',
  'RSSMRAURTMLARSNL',
  'VRDGPP80A41H50MQ',
  'VRDGPP80A41HRLMW',
  'VRDGPPULAQMHRLMI',
  'BNCLRAVNMSRFNLRS',
  'FRRLCULMENNLNMVD',
  'NREMNLTRPLPZMPPQ',
  'GLLNNASPSRLDVSVI',
];

const codeOf = (input: unknown, options?: Parameters<typeof checkTaxCode>[1]) => {
  const result = checkTaxCode(input, options);
  return result.ok ? 'ok' : result.problem.code;
};

describe('checkTaxCode', () => {
  it.each([...VALID, ...OMOCODIC])('accepts %s', (taxCode) => {
    expect(checkTaxCode(taxCode)).toEqual({ ok: true, value: taxCode });
  });

  it('normalises: trims and upper-cases', () => {
    expect(checkTaxCode('  rssmra85t10a562s ')).toEqual({ ok: true, value: 'RSSMRA85T10A562S' });
  });

  it('computes the official check character', () => {
    expect(taxCodeCheckCharacter('RSSMRA85T10A562')).toBe('S');
    expect(taxCodeCheckCharacter('RSSMRAURTMLARSN')).toBe('L');
  });

  it('decodes omocodia back to the base code', () => {
    expect(decodeOmocodia('RSSMRAURTMLARSNL')).toBe('RSSMRA85T10A562L');
  });

  it.each([
    ['RSSMRA85T10A562T', 'tax-code.check-character'],
    ['RSSMRA85T10A56NS', 'tax-code.check-character'], // omocodic letter with the base check character
    ['RSSMRA85T10A562', 'tax-code.length'],
    ['RSSMRA85T10A562SS', 'tax-code.length'],
    ['', 'tax-code.length'],
    ['RSSMRA85T10A5 2S', 'tax-code.format'],
    ['RSSMRA8OT10A562S', 'tax-code.format'], // letter O where a digit belongs (not an omocodia letter)
    ['1SSMRA85T10A562S', 'tax-code.format'],
    ['RSSMRA85T1OA562S', 'tax-code.format'],
    ['RSSMRA85F10A562S', 'tax-code.birth-date'], // F is not a month letter
    ['RSSMRA85T00A562S', 'tax-code.birth-date'],
    ['RSSMRA85T35A562S', 'tax-code.birth-date'],
    ['RSSMRA85T72A562S', 'tax-code.birth-date'],
    [12345, 'tax-code.type'],
    [undefined, 'tax-code.type'],
  ])('rejects %s with %s', (input, code) => {
    expect(codeOf(input)).toBe(code);
  });

  it('never echoes the value in the message', () => {
    const result = checkTaxCode('RSSMRA85T10A562T');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problem.message).not.toContain('RSSMRA');
      expect(result.problem.message).toMatch(/copy it again/);
    }
  });

  describe('11-digit codice fiscale of companies', () => {
    it('is refused unless allowed', () => {
      expect(codeOf('12345678903')).toBe('tax-code.length');
    });
    it('is checked like a partita IVA when allowed', () => {
      expect(checkTaxCode('12345678903', { allowEntityTaxCode: true })).toEqual({
        ok: true,
        value: '12345678903',
      });
      expect(codeOf('12345678904', { allowEntityTaxCode: true })).toBe('tax-code.check-digit');
      expect(codeOf('1234567890A', { allowEntityTaxCode: true })).toBe('tax-code.format');
      expect(codeOf('RSSMRA85T10A562S', { allowEntityTaxCode: true })).toBe('ok');
    });
  });

  describe('official kit test identifiers', () => {
    const KIT = ['PROVAX00X00X000Y', 'MTOMRA66A41G224M', 'BBTMRZ54L19H501T', 'CCSRMO77A09H501E'];
    it('PROVAX00X00X000Y fails the real checks', () => {
      expect(codeOf('PROVAX00X00X000Y')).not.toBe('ok');
    });
    it.each(KIT)('%s passes with the kit switch on', (taxCode) => {
      expect(codeOf(taxCode, { allowKitTestIdentifiers: true })).toBe('ok');
    });
    it('still checks the format with the switch on', () => {
      expect(codeOf('PROVAX00X00X000', { allowKitTestIdentifiers: true })).toBe('tax-code.length');
      expect(codeOf('PROVAX0OX00X000Y', { allowKitTestIdentifiers: true })).toBe('tax-code.format');
      expect(codeOf('RSSMRA85T10A562T', { allowKitTestIdentifiers: true })).toBe('ok');
    });
  });
});
