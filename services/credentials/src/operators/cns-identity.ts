import { checkTaxCode } from '@sts/shared';

/**
 * The codice fiscale of a CNS / TS-CNS card holder, read from the authentication certificate's
 * subject. CNS certificates carry it in the common name before the first `/`
 * (`CN=RSSMRA85T10A562S/7420000000000001.AbCdEf…=`); newer cards also, or only, in `serialNumber`
 * as `IT:<CF>` (older) or `TINIT-<CF>` (ETSI EN 319 412-1). When both are present they must agree.
 */
export type CnsIdentity = { ok: true; taxCode: string } | { ok: false; problem: string };

type SubjectValue = string | string[] | undefined;
const values = (value: SubjectValue) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

function fromCommonName(cn: string): string | undefined {
  const candidate = cn.split('/')[0]?.trim().toUpperCase() ?? '';
  return /^[A-Z0-9]{16}$/.test(candidate) ? candidate : undefined;
}

function fromSerialNumber(serial: string): string | undefined {
  const match = /^(?:IT:|TINIT-)([A-Z0-9]{16})$/i.exec(serial.trim());
  return match?.[1]?.toUpperCase();
}

export function cnsTaxCode(
  subject: { CN?: SubjectValue; serialNumber?: SubjectValue } | undefined,
): CnsIdentity {
  const found = new Set<string>();
  for (const cn of values(subject?.CN)) {
    const taxCode = fromCommonName(cn);
    if (taxCode) found.add(taxCode);
  }
  for (const serial of values(subject?.serialNumber)) {
    const taxCode = fromSerialNumber(serial);
    if (taxCode) found.add(taxCode);
  }
  if (found.size === 0) {
    return {
      ok: false,
      problem:
        'the certificate subject carries no codice fiscale (neither CN=<CF>/… nor serialNumber IT:<CF> or TINIT-<CF>)',
    };
  }
  if (found.size > 1)
    return { ok: false, problem: 'the certificate subject carries two different codici fiscali' };
  const taxCode = [...found][0]!;
  const checked = checkTaxCode(taxCode);
  if (!checked.ok)
    return {
      ok: false,
      problem: `the codice fiscale in the certificate is not valid (${checked.problem.code})`,
    };
  return { ok: true, taxCode: checked.value };
}
