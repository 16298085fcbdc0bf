import type { Sender } from '../expense-document.ts';
import type { TaxCodeForm } from './tax-code-forms.ts';
import { type Add, isRecord } from './validation-support.ts';

const REGION_OR_ASL_CODE = /^[A-Z0-9]{3}$/;
const SSA_CODE = /^[A-Z0-9]{5,6}$/;

/** Who sends the documents: a professional (own codice fiscale) or a structure (region, ASL and SSA codes). */
export function checkSender<T>(input: unknown, form: TaxCodeForm<T>, add: Add): Sender<T> | undefined {
  if (!isRecord(input) || (input.kind !== 'professional' && input.kind !== 'structure')) {
    add(
      'sender.kind',
      'sender.kind',
      'The sender must be a professional or a structure.',
      'Set sender.kind to "professional" (own codice fiscale) or "structure" (region, ASL and SSA codes).',
    );
    return undefined;
  }
  let ok = true;
  if (input.kind === 'professional') {
    if (input.taxCode === undefined) {
      add(
        'sender.taxCode',
        'sender.tax-code.missing',
        'A professional sender is identified by their codice fiscale.',
        'Give the codice fiscale of the professional who issues the documents.',
      );
      return undefined;
    }
    const taxCode = form.check(input.taxCode, 'sender.taxCode', 'sender', 'sender', add, false);
    return taxCode === undefined ? undefined : { kind: 'professional', taxCode };
  }
  const codes: [keyof typeof input & string, RegExp, string, string][] = [
    ['regionCode', REGION_OR_ASL_CODE, 'region-code', 'The region code must be 3 characters A–Z or 0–9.'],
    ['aslCode', REGION_OR_ASL_CODE, 'asl-code', 'The ASL code must be 3 characters A–Z or 0–9.'],
    ['ssaCode', SSA_CODE, 'ssa-code', 'The SSA code must be 5 or 6 characters A–Z or 0–9.'],
  ];
  for (const [field, pattern, code, message] of codes) {
    const value = input[field];
    if (typeof value !== 'string' || !pattern.test(value)) {
      ok = false;
      add(
        `sender.${field}`,
        `sender.${code}.format`,
        message,
        'Copy it exactly as in the letter that assigned the STS credentials (the "codice ufficio" region-ASL-SSA).',
      );
    }
  }
  let taxCode: T | undefined;
  if (input.taxCode !== undefined) {
    taxCode = form.check(input.taxCode, 'sender.taxCode', 'sender', 'sender', add, true);
    if (taxCode === undefined) ok = false;
  }
  if (!ok) return undefined;
  return {
    kind: 'structure',
    regionCode: input.regionCode as string,
    aslCode: input.aslCode as string,
    ssaCode: input.ssaCode as string,
    ...(taxCode !== undefined ? { taxCode } : {}),
  };
}
