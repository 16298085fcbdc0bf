import {
  CREDENTIAL_KINDS,
  type CredentialKind,
  checkTaxCode,
  checkVatNumber,
  type FieldProblem,
  refusedCharacters,
  SENDING_MODES,
  type SendingMode,
  STS_ENVIRONMENT_NAMES,
  type StsEnvironmentName,
} from '@sts/shared';

/**
 * Checks what a client sends to create or change a credential, the way a good help page would:
 * every problem names the field, has a stable rule code, and says how to fix it (where on the STS
 * portal to find the value). Messages never repeat the value: these are secrets and personal data.
 * Warnings do not block the request; they come back with the answer.
 */

// Environments, kinds and sending modes are the lease contract's (packages/shared/src/contracts).
export type Environment = StsEnvironmentName;

export type Owner =
  | { kind: 'professional'; taxCode: string }
  | { kind: 'structure'; regionCode: string; aslCode: string; ssaCode: string; taxCode?: string };

export interface Pacing {
  maxInFlight: number;
  requestsPerMinute: number;
}

/** The secrets of a credential, as received; they go straight to the vault and nowhere else. */
export interface CredentialSecrets {
  password?: string;
  pincode?: string;
  entratelPin?: string;
  clientCertificate?: { pkcs12: Buffer; passphrase: string };
}

export interface CredentialInput {
  label: string;
  environment: Environment;
  kind: CredentialKind;
  user?: string;
  owner: Owner;
  entratelSiteCode?: string;
  vatNumbers: string[];
  sendingMode: SendingMode;
  pacing: Pacing;
  passwordChangedAt?: Date;
  passwordValidityDays?: number;
  secrets: CredentialSecrets;
}

/** A change: every field optional; `kind` and `environment` cannot change. */
export type CredentialChange = Partial<
  Omit<CredentialInput, 'kind' | 'environment' | 'pacing' | 'secrets'>
> & {
  pacing?: Partial<Pacing>;
  secrets: CredentialSecrets;
};

export type Checked<T> =
  | { ok: true; value: T; warnings: FieldProblem[] }
  | { ok: false; problems: FieldProblem[] };

export const PACING_DEFAULTS: Pacing = { maxInFlight: 1, requestsPerMinute: 30 };
const MAX_VAT_NUMBERS = 200;
const MAX_PASSWORD_LENGTH = 128;
const MAX_PKCS12_BYTES = 64 * 1024;

const PINCODE_HELP =
  'The pincode has 10 digits: find it on the STS portal (sistemats.it) under Profilo utente → Stampa pincode, and copy it without spaces.';
const ENTRATEL_PIN_HELP =
  'The Entratel PIN has 8 letters and digits: the characters in the odd positions (1st, 3rd, … 15th) of the pincode in section 3 of the Entratel envelope ("busta Entratel").';
const USER_HELP =
  'The STS user is the codice identificativo of the portal login: the 16-character codice fiscale for doctors and other professionals, or the 8-character user code (e.g. USW5AUTR) for structures and pharmacies. Portal nicknames are not accepted by the web services.';
const SAFE_PASSWORD = /^[A-Za-z0-9.]+$/;

class Collector {
  readonly problems: FieldProblem[] = [];
  readonly warnings: FieldProblem[] = [];
  problem(field: string, rule: string, message: string) {
    this.problems.push({ field, rule, message });
  }
  warn(field: string, rule: string, message: string) {
    this.warnings.push({ field, rule, message });
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function rejectUnknown(c: Collector, body: Record<string, unknown>, allowed: readonly string[], prefix = '') {
  for (const key of Object.keys(body)) {
    if (allowed.includes(key)) continue;
    const hint =
      key === 'pinCode' || key === 'pin'
        ? ' Did you mean "pincode"?'
        : key === 'pincode'
          ? ' Entratel credentials take "entratelPin" (8 characters) instead.'
          : key === 'entratelPin'
            ? ' Only Entratel credentials have an Entratel PIN; this credential takes "pincode".'
            : '';
    c.problem(`${prefix}${key}`, 'unknown-field', `This field is not part of a credential.${hint}`);
  }
}

function text(c: Collector, field: string, value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') {
    c.problem(field, 'type', `Send ${field} as a string.`);
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) {
    c.problem(field, 'length', `${field} must have 1 to ${max} characters.`);
    return undefined;
  }
  const refused = refusedCharacters(field, trimmed);
  if (refused) {
    c.problems.push(refused);
    return undefined;
  }
  return trimmed;
}

function oneOf<T extends string>(
  c: Collector,
  field: string,
  value: unknown,
  allowed: readonly T[],
  help: string,
): T | undefined {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  c.problem(field, 'one-of', `${field} must be one of ${allowed.map((v) => `"${v}"`).join(', ')}. ${help}`);
  return undefined;
}

function integer(c: Collector, field: string, value: unknown, min: number, max: number, help = '') {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  c.problem(
    field,
    'range',
    `${field} must be a whole number from ${min} to ${max}.${help ? ` ${help}` : ''}`,
  );
  return undefined;
}

function taxCode(
  c: Collector,
  field: string,
  value: unknown,
  environment: Environment,
  options: { entity?: boolean } = {},
): string | undefined {
  const result = checkTaxCode(value, {
    allowKitTestIdentifiers: environment === 'test',
    allowEntityTaxCode: options.entity ?? false,
  });
  if (result.ok) return result.value;
  c.problem(field, result.problem.code, result.problem.message);
  return undefined;
}

/** The STS login: a codice fiscale (16) or a structure's 8-character user code. */
function stsUser(c: Collector, value: unknown, environment: Environment, kind: CredentialKind) {
  if (typeof value !== 'string' || value.trim() === '') {
    c.problem('user', 'required', `Send the STS user. ${USER_HELP}`);
    return undefined;
  }
  const normalised = value.trim().toUpperCase();
  if (kind !== 'entratel' && normalised.length === 8) {
    if (/^[A-Z0-9]{8}$/.test(normalised)) return normalised;
    c.problem(
      'user',
      'user.format',
      `An 8-character STS user code has letters and digits only. ${USER_HELP}`,
    );
    return undefined;
  }
  if (normalised.length !== 16) {
    c.problem(
      'user',
      'user.length',
      kind === 'entratel'
        ? 'The Entratel user is the codice fiscale of the person appointed by the intermediary: 16 characters.'
        : `The STS user has 16 characters (a codice fiscale) or 8 (a structure's user code). ${USER_HELP}`,
    );
    return undefined;
  }
  return taxCode(c, 'user', normalised, environment);
}

function password(c: Collector, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    c.problem(
      'password',
      'required',
      'Send the STS portal password (the one used to log in on sistemats.it).',
    );
    return undefined;
  }
  if (value.length > MAX_PASSWORD_LENGTH) {
    c.problem(
      'password',
      'length',
      `The password is longer than ${MAX_PASSWORD_LENGTH} characters: check what was pasted.`,
    );
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we refuse
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    c.problem(
      'password',
      'characters',
      'The password contains a line break or another control character: it was probably pasted with extra characters; type it again.',
    );
    return undefined;
  }
  if (!SAFE_PASSWORD.test(value)) {
    c.warn(
      'password',
      'sts-unsafe-characters',
      'The password contains characters other than letters, digits and "." (spaces, symbols or accented letters). The STS is known to mishandle them: if the credential test fails, change the password on the STS portal to one made only of letters, digits and ".".',
    );
  }
  return value;
}

function pincode(c: Collector, value: unknown): string | undefined {
  if (typeof value === 'string' && /^[0-9]{10}$/.test(value.trim())) return value.trim();
  if (typeof value === 'string' && /^[0-9]{10}$/.test(value.replace(/[\s-]/g, ''))) {
    c.problem('pincode', 'pincode.format', `Remove the spaces or dashes from the pincode. ${PINCODE_HELP}`);
    return undefined;
  }
  c.problem('pincode', 'pincode.format', PINCODE_HELP);
  return undefined;
}

function entratelPin(c: Collector, value: unknown): string | undefined {
  if (typeof value === 'string' && /^[A-Za-z0-9]{8}$/.test(value.trim())) return value.trim();
  c.problem('entratelPin', 'entratel-pin.format', ENTRATEL_PIN_HELP);
  return undefined;
}

function entratelSiteCode(c: Collector, value: unknown, environment: Environment): string | undefined {
  const help =
    "The codice fiscale-sede is the intermediary's codice fiscale, a dash and the 3-digit sede number, as registered with Entratel (e.g. 07874631000-000).";
  if (typeof value !== 'string') {
    c.problem('entratelSiteCode', 'required', help);
    return undefined;
  }
  const match = /^([A-Z0-9]{11}|[A-Z0-9]{16})-([0-9]{3})$/.exec(value.trim().toUpperCase());
  if (!match) {
    c.problem('entratelSiteCode', 'entratel-site-code.format', help);
    return undefined;
  }
  const before = c.problems.length;
  taxCode(c, 'entratelSiteCode', match[1], environment, { entity: true });
  if (c.problems.length > before) return undefined;
  return `${match[1]}-${match[2]}`;
}

const CODE_HELP =
  'Copy it from the credentials letter or the pincode PDF, where the "Codice Proprietario" reads region-ASL-SSA (e.g. 130-204-78909).';

function ownerCode(c: Collector, field: string, value: unknown, pattern: RegExp, what: string) {
  if (typeof value === 'string' && pattern.test(value.trim().toUpperCase()))
    return value.trim().toUpperCase();
  c.problem(field, `${field.split('.').pop()}.format`, `The ${what}. ${CODE_HELP}`);
  return undefined;
}

function owner(c: Collector, value: unknown, environment: Environment): Owner | undefined {
  if (!isObject(value)) {
    c.problem(
      'owner',
      'required',
      'Send the owner of the data (proprietario): { "taxCode" } for a professional; { "regionCode", "aslCode", "ssaCode", "taxCode" } for a structure.',
    );
    return undefined;
  }
  rejectUnknown(c, value, ['taxCode', 'regionCode', 'aslCode', 'ssaCode'], 'owner.');
  const isStructure = ['regionCode', 'aslCode', 'ssaCode'].some((key) => value[key] !== undefined);
  if (!isStructure) {
    if (value.taxCode === undefined) {
      c.problem('owner.taxCode', 'required', "Send the professional's own codice fiscale (16 characters).");
      return undefined;
    }
    const code = taxCode(c, 'owner.taxCode', value.taxCode, environment);
    return code ? { kind: 'professional', taxCode: code } : undefined;
  }
  const regionCode = ownerCode(
    c,
    'owner.regionCode',
    value.regionCode,
    /^[A-Z0-9]{3}$/,
    'region code has 3 characters',
  );
  const aslCode = ownerCode(c, 'owner.aslCode', value.aslCode, /^[A-Z0-9]{3}$/, 'ASL code has 3 characters');
  const ssaCode = ownerCode(
    c,
    'owner.ssaCode',
    value.ssaCode,
    /^[A-Z0-9]{5,6}$/,
    'SSA (structure) code has 5 or 6 characters',
  );
  const code =
    value.taxCode === undefined
      ? undefined
      : taxCode(c, 'owner.taxCode', value.taxCode, environment, { entity: true });
  if (!regionCode || !aslCode || !ssaCode) return undefined;
  if (value.taxCode !== undefined && !code) return undefined;
  return { kind: 'structure', regionCode, aslCode, ssaCode, ...(code ? { taxCode: code } : {}) };
}

function vatNumbers(c: Collector, value: unknown, environment: Environment): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_VAT_NUMBERS) {
    c.problem(
      'vatNumbers',
      'required',
      `Send the partite IVA this credential may send documents for: a list of 1 to ${MAX_VAT_NUMBERS}.`,
    );
    return undefined;
  }
  const numbers: string[] = [];
  for (const [index, item] of value.entries()) {
    const result = checkVatNumber(item, { allowKitTestIdentifiers: environment === 'test' });
    if (!result.ok) c.problem(`vatNumbers[${index}]`, result.problem.code, result.problem.message);
    else if (numbers.includes(result.value)) {
      c.problem(
        `vatNumbers[${index}]`,
        'duplicate',
        'This partita IVA is already in the list: remove the repetition.',
      );
    } else numbers.push(result.value);
  }
  return numbers.length === value.length ? numbers : undefined;
}

function pacing(c: Collector, value: unknown, partial: boolean): Partial<Pacing> | undefined {
  if (!isObject(value)) {
    c.problem('pacing', 'type', 'Send pacing as { "maxInFlight": 1, "requestsPerMinute": 30 }.');
    return undefined;
  }
  rejectUnknown(c, value, ['maxInFlight', 'requestsPerMinute'], 'pacing.');
  const result: Partial<Pacing> = {};
  if (value.maxInFlight !== undefined || !partial) {
    const max = integer(c, 'pacing.maxInFlight', value.maxInFlight ?? PACING_DEFAULTS.maxInFlight, 1, 8);
    if (max !== undefined) result.maxInFlight = max;
    if (max !== undefined && max > 1) {
      c.warn(
        'pacing.maxInFlight',
        'concurrency',
        'The STS publishes no limit on parallel calls; one call at a time per credential is the safe default. Raise it only if the STS keeps up.',
      );
    }
  }
  if (value.requestsPerMinute !== undefined || !partial) {
    const rate = integer(
      c,
      'pacing.requestsPerMinute',
      value.requestsPerMinute ?? PACING_DEFAULTS.requestsPerMinute,
      1,
      600,
    );
    if (rate !== undefined) result.requestsPerMinute = rate;
  }
  return result;
}

/**
 * No STS password was changed before this day (the Sistema TS web services for the 730 opened in
 * 2015): an earlier date is a typo, and years Postgres cannot store (year 0) must not reach it.
 */
const EARLIEST_PASSWORD_CHANGE = new Date('2000-01-01T00:00:00Z');

function pastDate(c: Collector, field: string, value: unknown, now: Date): Date | undefined {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    c.problem(field, 'date', `Send ${field} as a date, YYYY-MM-DD (or an ISO 8601 date-time).`);
    return undefined;
  }
  if (date.getTime() < EARLIEST_PASSWORD_CHANGE.getTime()) {
    c.problem(
      field,
      'range',
      `${field} must be a date from ${EARLIEST_PASSWORD_CHANGE.toISOString().slice(0, 10)} on: give the day the password was last changed on the STS portal.`,
    );
    return undefined;
  }
  if (date.getTime() > now.getTime() + 86_400_000) {
    c.problem(
      field,
      'future',
      `${field} cannot be in the future: give the day the password was last changed on the STS portal.`,
    );
    return undefined;
  }
  return date;
}

function clientCertificate(c: Collector, value: unknown) {
  if (!isObject(value) || typeof value.pkcs12 !== 'string' || typeof value.passphrase !== 'string') {
    c.problem(
      'clientCertificate',
      'required',
      'Send the client certificate as { "pkcs12": "<base64 of the .p12/.pfx file>", "passphrase": "<its password>" }.',
    );
    return undefined;
  }
  rejectUnknown(c, value, ['pkcs12', 'passphrase'], 'clientCertificate.');
  const compact = value.pkcs12.replace(/\s+/g, '');
  const bytes = Buffer.from(compact, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact) || bytes.length === 0 || bytes.length > MAX_PKCS12_BYTES) {
    c.problem(
      'clientCertificate.pkcs12',
      'base64',
      `Send the .p12/.pfx file base64-encoded (at most ${MAX_PKCS12_BYTES / 1024} KiB), e.g. the output of: base64 -w0 certificate.p12`,
    );
    return undefined;
  }
  return { pkcs12: bytes, passphrase: value.passphrase };
}

const COMMON_FIELDS = [
  'label',
  'user',
  'password',
  'owner',
  'vatNumbers',
  'sendingMode',
  'pacing',
  'passwordChangedAt',
  'passwordValidityDays',
] as const;
const FIELDS_BY_KIND: Record<CredentialKind, readonly string[]> = {
  basic: [...COMMON_FIELDS, 'pincode'],
  entratel: [...COMMON_FIELDS, 'entratelPin', 'entratelSiteCode'],
  'client-certificate': [...COMMON_FIELDS, 'pincode', 'clientCertificate'],
};

function ownerWarnings(c: Collector, kind: CredentialKind, user: string | undefined, o: Owner | undefined) {
  if (kind === 'basic' && user && o?.kind === 'professional' && user.length === 16 && user !== o.taxCode) {
    c.warn(
      'owner.taxCode',
      'owner-differs-from-user',
      'The owner is not the STS user: this works only while the owner has an active delegation to the user on the STS portal (otherwise the STS answers code 110).',
    );
  }
}

/** Checks a new credential. `now` dates the password when `passwordChangedAt` is not given. */
export function checkNewCredential(body: unknown, now: Date): Checked<CredentialInput> {
  const c = new Collector();
  if (!isObject(body)) {
    c.problem('body', 'type', 'Send the credential as a JSON object.');
    return { ok: false, problems: c.problems };
  }
  const environment = oneOf(
    c,
    'environment',
    body.environment,
    STS_ENVIRONMENT_NAMES,
    'Use "test" for the STS test environment (kit test users) and "production" for real sending.',
  );
  const kind = oneOf(
    c,
    'kind',
    body.kind,
    CREDENTIAL_KINDS,
    '"basic": STS user, password and pincode (doctors, professionals, structures); "entratel": an intermediary\'s Entratel user, password and PIN; "client-certificate": a Sogei client certificate (Regioni, enti).',
  );
  if (!environment || !kind) {
    rejectUnknown(c, body, ['environment', 'kind', ...new Set(Object.values(FIELDS_BY_KIND).flat())]);
    return { ok: false, problems: c.problems };
  }
  rejectUnknown(c, body, ['environment', 'kind', ...FIELDS_BY_KIND[kind]]);

  const label = text(c, 'label', body.label, 100);
  const needsLogin = kind !== 'client-certificate' || body.user !== undefined || body.password !== undefined;
  const user = needsLogin ? stsUser(c, body.user, environment, kind) : undefined;
  const secrets: CredentialSecrets = {};
  if (needsLogin) {
    const value = password(c, body.password);
    if (value !== undefined) secrets.password = value;
  }
  if (kind === 'entratel') {
    const pin = entratelPin(c, body.entratelPin);
    if (pin !== undefined) secrets.entratelPin = pin;
  } else {
    const pin = pincode(c, body.pincode);
    if (pin !== undefined) secrets.pincode = pin;
  }
  const siteCode = kind === 'entratel' ? entratelSiteCode(c, body.entratelSiteCode, environment) : undefined;
  if (kind === 'client-certificate') {
    const certificate = clientCertificate(c, body.clientCertificate);
    if (certificate) secrets.clientCertificate = certificate;
  }
  const theOwner = owner(c, body.owner, environment);
  const numbers = vatNumbers(c, body.vatNumbers, environment);
  const mode =
    body.sendingMode === undefined
      ? 'auto'
      : oneOf(
          c,
          'sendingMode',
          body.sendingMode,
          SENDING_MODES,
          '"batch": zipped files; "realtime": one call per document; "auto": the submitter chooses.',
        );
  const pace = pacing(c, body.pacing ?? {}, false);
  const changedAt =
    body.passwordChangedAt === undefined
      ? undefined
      : pastDate(c, 'passwordChangedAt', body.passwordChangedAt, now);
  const validity =
    body.passwordValidityDays === undefined
      ? undefined
      : integer(
          c,
          'passwordValidityDays',
          body.passwordValidityDays,
          1,
          365,
          'STS passwords usually last 60 to 90 days.',
        );
  ownerWarnings(c, kind, user, theOwner);

  if (c.problems.length > 0) return { ok: false, problems: c.problems };
  return {
    ok: true,
    warnings: c.warnings,
    value: {
      label: label!,
      environment,
      kind,
      ...(user ? { user } : {}),
      owner: theOwner!,
      ...(siteCode ? { entratelSiteCode: siteCode } : {}),
      vatNumbers: numbers!,
      sendingMode: mode!,
      pacing: { ...PACING_DEFAULTS, ...pace },
      ...(changedAt ? { passwordChangedAt: changedAt } : {}),
      ...(validity !== undefined ? { passwordValidityDays: validity } : {}),
      secrets,
    },
  };
}

/** Checks a change to an existing credential of `kind` in `environment`. */
export function checkCredentialChange(
  body: unknown,
  existing: { kind: CredentialKind; environment: Environment; user?: string | null },
  now: Date,
): Checked<CredentialChange> {
  const c = new Collector();
  if (!isObject(body) || Object.keys(body).length === 0) {
    c.problem('body', 'type', 'Send the fields to change as a JSON object (at least one).');
    return { ok: false, problems: c.problems };
  }
  const { kind, environment } = existing;
  for (const fixed of ['kind', 'environment'] as const) {
    if (body[fixed] !== undefined && body[fixed] !== existing[fixed]) {
      c.problem(
        fixed,
        'immutable',
        `The ${fixed} of a credential cannot change: create a new credential instead, then delete this one.`,
      );
    }
  }
  rejectUnknown(c, body, ['environment', 'kind', ...FIELDS_BY_KIND[kind]]);

  const change: CredentialChange = { secrets: {} };
  if (body.label !== undefined) {
    const label = text(c, 'label', body.label, 100);
    if (label) change.label = label;
  }
  if (body.user !== undefined) {
    const user = stsUser(c, body.user, environment, kind);
    if (user) change.user = user;
  }
  if (body.password !== undefined) {
    const value = password(c, body.password);
    if (value !== undefined) change.secrets.password = value;
  }
  if (body.pincode !== undefined) {
    const pin = pincode(c, body.pincode);
    if (pin !== undefined) change.secrets.pincode = pin;
  }
  if (body.entratelPin !== undefined) {
    const pin = entratelPin(c, body.entratelPin);
    if (pin !== undefined) change.secrets.entratelPin = pin;
  }
  if (body.entratelSiteCode !== undefined) {
    const code = entratelSiteCode(c, body.entratelSiteCode, environment);
    if (code) change.entratelSiteCode = code;
  }
  if (body.clientCertificate !== undefined) {
    const certificate = clientCertificate(c, body.clientCertificate);
    if (certificate) change.secrets.clientCertificate = certificate;
  }
  if (body.owner !== undefined) {
    const theOwner = owner(c, body.owner, environment);
    if (theOwner) change.owner = theOwner;
  }
  if (body.vatNumbers !== undefined) {
    const numbers = vatNumbers(c, body.vatNumbers, environment);
    if (numbers) change.vatNumbers = numbers;
  }
  if (body.sendingMode !== undefined) {
    const mode = oneOf(c, 'sendingMode', body.sendingMode, SENDING_MODES, '');
    if (mode) change.sendingMode = mode;
  }
  if (body.pacing !== undefined) {
    const pace = pacing(c, body.pacing, true);
    if (pace) change.pacing = pace;
  }
  if (body.passwordChangedAt !== undefined) {
    const at = pastDate(c, 'passwordChangedAt', body.passwordChangedAt, now);
    if (at) change.passwordChangedAt = at;
  }
  if (body.passwordValidityDays !== undefined) {
    const days = integer(c, 'passwordValidityDays', body.passwordValidityDays, 1, 365);
    if (days !== undefined) change.passwordValidityDays = days;
  }
  ownerWarnings(c, kind, change.user ?? existing.user ?? undefined, change.owner);
  if (c.problems.length > 0) return { ok: false, problems: c.problems };
  return { ok: true, value: change, warnings: c.warnings };
}
