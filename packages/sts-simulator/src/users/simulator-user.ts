import { z } from 'zod';
import { hashSecret, SECRET_HASH_FORMAT, type Secret } from './secret-hash.ts';

/**
 * A Sistema TS account as the simulator knows it. Professionals are identified by their codice
 * fiscale (which is also their user name); structures by the "codice ufficio" region-ASL-SSA plus the
 * codice fiscale of their owner; delegates and Entratel intermediaries send for the owners that
 * delegated them (docs/protocol.md §2.1, §2.5).
 */

const officeCode = z
  .string()
  .regex(/^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{5,6}$/, 'must be region-ASL-SSA, e.g. 130-204-78909');
const taxCode = z
  .string()
  .regex(/^(?:[A-Z0-9]{16}|[0-9]{11})$/, 'must be a codice fiscale (16 characters, or 11 digits)');

export const ownerSchema = z.object({
  /** The owner's codice fiscale (`cfProprietario`). */
  taxCode: taxCode.optional(),
  /** Structures only: `codiceRegione-codiceAsl-codiceSSA`. */
  office: officeCode.optional(),
  vatNumber: z
    .string()
    .regex(/^[0-9]{11}$/)
    .optional(),
});
export type Owner = z.infer<typeof ownerSchema>;

export const USER_KINDS = ['professional', 'structure', 'delegate', 'entratel'] as const;
export type UserKind = (typeof USER_KINDS)[number];

export const simulatorUserSchema = z.object({
  username: z.string().min(1).max(64),
  password: z.string().min(1),
  /**
   * 10 digits, sent encrypted; Entratel intermediaries send their 8-character PIN in clear
   * (docs/protocol.md §2.1).
   */
  pincode: z.string().min(1).max(64),
  kind: z.enum(USER_KINDS).default('professional'),
  /** What the kit calls the subject: Medico, Farmacia, Psicologo … */
  category: z.string().default('Configured'),
  /** The account's own owner data: professionals' codice fiscale; structures' office and owner CF. */
  owner: ownerSchema.default({}),
  /** Owners this account may send for (delegates, Entratel intermediaries). */
  delegators: z.array(ownerSchema).default([]),
  /** Entratel intermediaries: "codice fiscale-sede telematica", expected in `opzionale1`. */
  entratelSite: z.string().optional(),
  /** ISO timestamp after which the password counts as expired; `expired: true` expires it now. */
  passwordExpiresAt: z.iso.datetime({ offset: true }).optional(),
  expired: z.boolean().default(false),
  /** Public accredited structures are exempt from `pagamentoTracciato` (spec v2.5). */
  traceablePaymentExempt: z.boolean().default(false),
  /** Ciphertexts of the kit made with the real SanitelCF key: pincode and owner CF. */
  kitCiphertexts: z.array(z.string()).default([]),
});
export type SimulatorUserInput = z.input<typeof simulatorUserSchema>;
/**
 * An account as the simulator holds it: password and pincode in clear for configured accounts,
 * hashed for those that came through the admin API or the state file (see `secret-hash.ts`).
 */
export type SimulatorUser = Omit<z.infer<typeof simulatorUserSchema>, 'password' | 'pincode'> & {
  password: Secret;
  pincode: Secret;
};

/** A hashed secret as the state file keeps it; a clear string (files written before hashing) is hashed on load. */
const storedSecretSchema = z.union([
  z.strictObject({ hash: z.string().regex(SECRET_HASH_FORMAT, 'must be a scrypt hash') }),
  z
    .string()
    .min(1)
    .transform((clear) => hashSecret(clear)),
]);

/** An account added through the admin API, as the state file keeps it: no secret in clear. */
export const storedUserSchema = simulatorUserSchema.extend({
  password: storedSecretSchema,
  pincode: storedSecretSchema,
});

/** The owner an account sends for when the request names none. */
export function ownOwner(user: SimulatorUser): Owner {
  if (user.kind === 'professional') return { ...user.owner, taxCode: user.owner.taxCode ?? user.username };
  return user.owner;
}

/** Stable key of an owner: the office for structures, else the codice fiscale. */
export function ownerKey(owner: Owner): string {
  return owner.office ? `office:${owner.office}` : `cf:${owner.taxCode ?? ''}`;
}

export function splitOffice(office: string | undefined): {
  regionCode: string;
  aslCode: string;
  ssaCode: string;
} {
  const [regionCode = '', aslCode = '', ssaCode = ''] = (office ?? '').split('-');
  return { regionCode, aslCode, ssaCode };
}
