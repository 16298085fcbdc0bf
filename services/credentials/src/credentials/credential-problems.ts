import { ProblemError } from '@sts/shared';

/** A 409: the request is fine, the credential's state does not allow it now. */
export const conflict = (type: string, title: string, detail: string) =>
  new ProblemError({ status: 409, type, title, detail });

/**
 * What an operator (CNS card holder) may change in their own credential: the secrets and when the
 * password changed. Everything else (owner, VAT numbers, pacing, sending mode, label, user) is the
 * clinic's configuration and must not move under it.
 */
const OPERATOR_FIELDS: ReadonlySet<string> = new Set([
  'password',
  'pincode',
  'entratelPin',
  'clientCertificate',
  'passwordChangedAt',
]);

/** A 403 naming every field of an operator's change that only the clinic may change. */
export function refuseOperatorFields(body: unknown) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
  const refused = Object.keys(body)
    .filter((field) => !OPERATOR_FIELDS.has(field))
    .map((field) => field.slice(0, 64));
  if (refused.length === 0) return;
  const allowed = [...OPERATOR_FIELDS].join(', ');
  throw new ProblemError({
    status: 403,
    type: 'forbidden',
    title: 'Not allowed',
    detail: `An operator may not change ${refused.join(', ')}: only ${allowed}. Ask the clinic for the rest.`,
    errors: refused.map((field) => ({
      field,
      rule: 'operator-may-not-change',
      message: `Only the clinic changes this field; an operator may change ${allowed}.`,
    })),
  });
}
