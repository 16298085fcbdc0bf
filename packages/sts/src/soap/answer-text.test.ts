import { vatNumberCheckDigit } from '@sts/shared';
import { describe, expect, it } from 'vitest';
import { answerText, vatNumberText } from './answer-text.ts';

// Valid VAT numbers with one and two leading zeros: 01234567897, 00123456782.
const VAT = `0123456789${vatNumberCheckDigit('0123456789')}`;
const TWO_ZEROS = `0012345678${vatNumberCheckDigit('0012345678')}`;

describe('vatNumberText and answerText: what node-soap may hand over', () => {
  it('a number made of an xs:integer pIva gets its leading zeros back', () => {
    // node-soap's parseInt('01234567897') for an element it takes to be an integer.
    expect(vatNumberText(1234567897)).toBe(VAT);
    expect(vatNumberText(123456782)).toBe(TWO_ZEROS);
    expect(vatNumberText({ attributes: { 'xsi:type': 'xsd:integer' }, $value: 1234567897 })).toBe(VAT);
  });

  it('text is taken as sent, attributes or not; nothing is invented', () => {
    expect(vatNumberText(VAT)).toBe(VAT);
    expect(vatNumberText({ attributes: { 'xsi:type': 'xsd:integer' }, $value: VAT })).toBe(VAT);
    expect(vatNumberText(undefined)).toBe('');
    // Not a VAT number: left as it is for validation to refuse, never padded into one.
    expect(vatNumberText('123')).toBe('123');
    expect(vatNumberText(-5)).toBe('-5');
    expect(answerText({ attributes: { 'xsi:nil': 'true' } })).toBe('');
    expect(answerText(7)).toBe('7');
  });
});
