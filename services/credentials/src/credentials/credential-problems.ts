import { ProblemError } from '@sts/shared';

/** A 409: the request is fine, the credential's state does not allow it now. */
export const conflict = (type: string, title: string, detail: string) =>
  new ProblemError({ status: 409, type, title, detail });

/** The unique index that keeps labels apart within a tenant (credentials-table.ts). */
const LABEL_INDEX = 'credentials_tenant_label';

/** Whether `error` is Postgres refusing a label another credential of the tenant has. */
export function isLabelTaken(error: unknown): boolean {
  // drizzle wraps the driver's error in a DrizzleQueryError whose cause it is.
  for (let e = error as { code?: unknown; constraint?: unknown; cause?: unknown } | undefined; e; ) {
    if (e.code === '23505' && e.constraint === LABEL_INDEX) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** A 409 naming the label: the tenant has another credential by that name. */
export const labelTaken = () =>
  new ProblemError({
    status: 409,
    type: 'label-taken',
    title: 'Label already used',
    detail: 'Another credential of this tenant has this label: choose a different label.',
    errors: [
      {
        field: 'label',
        rule: 'unique',
        message: 'Labels are unique within a clinic: choose one no other credential of the clinic has.',
      },
    ],
  });

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
