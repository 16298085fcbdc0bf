import { describe, expect, it } from 'vitest';
import { checkVatNumber, vatNumberCheckDigit } from './vat-number.ts';

const codeOf = (input: unknown, options?: Parameters<typeof checkVatNumber>[1]) => {
  const result = checkVatNumber(input, options);
  return result.ok ? 'ok' : result.problem.code;
};

describe('checkVatNumber', () => {
  // Check digits verified by hand: e.g. 1234567890 → odd 1+3+5+7+9=25, even 4+8+3+7+0=22, 47 → 3.
  it.each(['12345678903', '07874631000', '00265910661', '98765432103', '10000000009'])(
    'accepts %s',
    (value) => {
      expect(checkVatNumber(value)).toEqual({ ok: true, value });
    },
  );

  it('computes the check digit', () => {
    expect(vatNumberCheckDigit('1234567890')).toBe('3');
    expect(vatNumberCheckDigit('0787463100')).toBe('0');
  });

  it('trims', () => {
    expect(checkVatNumber(' 12345678903 ')).toEqual({ ok: true, value: '12345678903' });
  });

  it.each([
    ['12345678904', 'vat-number.check-digit'],
    ['01201200121', 'vat-number.check-digit'],
    ['1234567890', 'vat-number.length'],
    ['IT12345678903', 'vat-number.length'],
    ['1234567890A', 'vat-number.format'],
    ['1234 567890', 'vat-number.format'],
    ['00000000000', 'vat-number.format'],
    [12345678903, 'vat-number.type'],
  ])('rejects %s with %s', (input, code) => {
    expect(codeOf(input)).toBe(code);
  });

  it('accepts the kit test numbers only with the switch on, still checking the format', () => {
    for (const kit of ['01201200121', '65498732105', '87654321098', '03213213210', '00123456789']) {
      expect(codeOf(kit)).toBe('vat-number.check-digit');
      expect(codeOf(kit, { allowKitTestIdentifiers: true })).toBe('ok');
    }
    expect(codeOf('0120120012', { allowKitTestIdentifiers: true })).toBe('vat-number.length');
    expect(codeOf('0120120012X', { allowKitTestIdentifiers: true })).toBe('vat-number.format');
  });

  it('never echoes the value', () => {
    const result = checkVatNumber('12345678904');
    expect(!result.ok && result.problem.message.includes('12345678904')).toBe(false);
  });
});
