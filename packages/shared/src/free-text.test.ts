import { describe, expect, it } from 'vitest';
import { refusedCharacters, replaceRefusedCharacters } from './free-text.ts';

describe('free text', () => {
  it.each(['Studio Rossi', 'Poliambulatorio Sant’Anna – sede 2', 'Ελληνικά 中文 😀', 'tab-free, 100% plain'])(
    'accepts %j',
    (value) => {
      expect(refusedCharacters('label', value)).toBeUndefined();
    },
  );

  it.each([
    ['nul\u0000', 'U+0000', 4],
    ['line\nbreak', 'U+000A', 5],
    ['tab\there', 'U+0009', 4],
    ['esc\u001b[2J', 'U+001B', 4],
    ['del\u007f', 'U+007F', 4],
    ['c1\u0085', 'U+0085', 3],
    ['sep\u2028', 'U+2028', 4],
    ['lone \ud800 high', 'U+D800', 6],
    ['lone \udc00 low', 'U+DC00', 6],
    ['end \ud83d', 'U+D83D', 5],
  ])('refuses %j, naming the character and where it is', (value, code, position) => {
    expect(refusedCharacters('purpose', value)).toEqual({
      field: 'purpose',
      rule: 'characters',
      message: expect.stringContaining(`${code} at position ${position}`),
    });
  });

  it('turns every refused character of relayed text into a space', () => {
    expect(replaceRefusedCharacters('Errore\r\ngenerico\u0000di \ud800autenticazione 😀')).toBe(
      'Errore  generico di  autenticazione 😀',
    );
  });
});
