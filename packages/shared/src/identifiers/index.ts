export type { IdentifierCheck, IdentifierCheckOptions, IdentifierProblem } from './identifier-check.ts';
export {
  checkTaxCode,
  decodeOmocodia,
  OMOCODIA_LETTERS,
  type TaxCodeCheckOptions,
  taxCodeCheckCharacter,
} from './tax-code.ts';
export { checkVatNumber, vatNumberCheckDigit } from './vat-number.ts';
