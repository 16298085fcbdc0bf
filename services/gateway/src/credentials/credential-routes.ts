import {
  API_KEY_SCOPES,
  CREDENTIAL_STATUSES,
  INTERNAL_ROUTES,
  invalidRequest,
  notFound,
  ProblemError,
  refusedCharacters,
  SENDING_MODES,
} from '@sts/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../api-keys/api-key-auth.ts';
import { overloaded } from '../http/protection.ts';
import { problemResponse, problemSchema, type ResponseSpec, routeSchema } from '../http/route-schema.ts';
import {
  type CredentialsAnswer,
  type CredentialsCaller,
  type CredentialsClient,
  type CredentialsRequestBody,
  CredentialsUnavailableError,
} from './credentials-client.ts';

/**
 * `/v1/credentials…`: a tenant's STS credentials, through the credentials service's internal API.
 * The gateway authenticates the API key (scope `credentials:manage`) and passes the request on with
 * a service token for the key's tenant; the credentials service validates, stores, tests, and its
 * answer comes back as it is (status, body, `Retry-After`, `Cache-Control`), but for the paths it
 * names: `Location` and a problem's `instance` say `/v1/credentials…`, not the internal prefix.
 * When it cannot answer (unreachable, too slow, 5xx, the gateway's token refused) the answer is 503
 * with `Retry-After`, and nothing of what it said. Bodies hold passwords: never logged.
 */

export const CREDENTIALS_PREFIX = '/v1/credentials';
/** As the credentials service's own limit: room for a client certificate's PKCS#12 in base64. */
export const CREDENTIALS_BODY_LIMIT = 256 * 1024;

const INTERNAL_PREFIX = INTERNAL_ROUTES.credentials;
const MANAGE = { requiredScopes: [API_KEY_SCOPES.credentialsManage] } as const;
/** The credentials service's own test: any other id is no credential, answered here as it would. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const unavailable = (seconds: number) =>
  new ProblemError({
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    detail: `Credentials cannot be managed right now; try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
  });

/** The internal path an answer names, as the public one (anything else: undefined). */
function publicPath(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined;
  if (path === INTERNAL_PREFIX || path.startsWith(`${INTERNAL_PREFIX}/`)) {
    return CREDENTIALS_PREFIX + path.slice(INTERNAL_PREFIX.length);
  }
  return undefined;
}

/**
 * A JSON body with the internal prefix as a problem's `instance` (an error, or the `testRefused`
 * problem of a create or change): the same body with the public path. Nothing else is touched.
 */
function rewriteInstances(answer: CredentialsAnswer): string {
  if (!answer.body.includes(`"instance":"${INTERNAL_PREFIX}`)) return answer.body;
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return answer.body;
  }
  if (!body || typeof body !== 'object') return answer.body;
  const record = body as Record<string, unknown>;
  const problems = [record, record.testRefused].filter(
    (item): item is Record<string, unknown> => !!item && typeof item === 'object',
  );
  for (const problem of problems) {
    const rewritten = publicPath(problem.instance);
    if (rewritten) problem.instance = rewritten;
  }
  return JSON.stringify(body);
}

/** `X-Audit-Reason`, checked as the credentials service checks it (so its answer is the same). */
function auditReasonOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-audit-reason'];
  if (typeof header !== 'string' || !header.trim()) return undefined;
  const problem = refusedCharacters('x-audit-reason', header.trim());
  if (problem) throw invalidRequest([problem]);
  return header;
}

function callerOf(request: FastifyRequest): CredentialsCaller {
  const { tenant, apiKey } = principalOf(request);
  const auditReason = auditReasonOf(request);
  return {
    tenantId: tenant.id,
    apiKeyId: apiKey.id,
    requestId: request.id,
    ...(auditReason !== undefined ? { auditReason } : {}),
  };
}

/** The body as it arrived (raw bytes, see the parser below), with its content type; none for none. */
function bodyOf(request: FastifyRequest): CredentialsRequestBody | undefined {
  const contentType = request.headers['content-type'];
  if (!Buffer.isBuffer(request.body) || typeof contentType !== 'string') return undefined;
  return { contentType, body: request.body };
}

/** Not typed from the route schemas: the request goes on as it came (see the documentation below). */
type IdRequest = FastifyRequest<{ Params: { id: string } }>;

const queryOf = (request: FastifyRequest) => {
  const at = request.url.indexOf('?');
  return at < 0 ? undefined : request.url.slice(at + 1);
};

function idOf(request: IdRequest): string {
  const { id } = request.params;
  if (!UUID.test(id)) throw notFound('The credential');
  return id;
}

/** Sends the credentials service's answer on, or 503 when there is none to send. */
async function relay(
  request: FastifyRequest,
  reply: FastifyReply,
  call: () => Promise<CredentialsAnswer>,
): Promise<FastifyReply> {
  let answer: CredentialsAnswer;
  try {
    answer = await call();
  } catch (error) {
    if (!(error instanceof CredentialsUnavailableError)) throw error;
    // The reason, status and network code only: never what the service said, never a body.
    request.log.error(
      { credentialsUnavailable: error.reason, upstreamStatus: error.upstreamStatus, code: error.code },
      'credentials service unavailable',
    );
    void reply.header('retry-after', String(error.retryAfterSeconds));
    throw unavailable(error.retryAfterSeconds);
  }
  void reply.code(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) {
    if (name === 'location') {
      const location = publicPath(value);
      if (location) void reply.header('location', location);
    } else {
      void reply.header(name, value);
    }
  }
  if (answer.status === 204 || answer.status === 304 || answer.body === '') return reply.send();
  return reply.send(rewriteInstances(answer));
}

// ---- documentation ------------------------------------------------------------------------------
// The credentials service owns these shapes and validates every request: what follows documents
// them (services/credentials/README.md) and validates nothing the service would judge otherwise.
// Bodies are documentation only (`validation: 'handler'`: the raw bytes still go on unchanged),
// query parameters accept anything (`passedOn`), and the id is any string (not a uuid: 404).

/** A query parameter documented as `json` but passed on as it came: the credentials service checks it. */
const passedOn = (json: Record<string, unknown>) => z.unknown().optional().meta(json);

const EXAMPLE_ID = '9e4f2a1c-3b5d-4c6e-8f7a-0b1c2d3e4f5a';
const EXAMPLE_PATH = `${CREDENTIALS_PREFIX}/${EXAMPLE_ID}`;
const retryAfter = { 'retry-after': { description: 'Seconds to wait', schema: z.int().min(0) } };

const idParams = z.object({
  id: z.string().describe('The credential id (a uuid; any other id is no credential: 404)'),
});
const testQuery = z.object({
  test: passedOn({
    type: 'boolean',
    default: false,
    description: 'Run the test (`POST …/test`) right after saving; its outcome comes back as `test`.',
  }),
});
const listQuery = z.object({
  status: passedOn({
    type: 'string',
    enum: [...CREDENTIAL_STATUSES],
    description: 'Only the credentials in this status',
  }),
  after: passedOn({ type: 'string', format: 'uuid', description: 'The `next` of the previous page' }),
  limit: passedOn({
    type: 'integer',
    minimum: 1,
    maximum: 200,
    default: 50,
    description: 'At most this many',
  }),
});

const owner = z.union([
  z.object({ taxCode: z.string().describe('A professional: their codice fiscale') }),
  z.object({
    regionCode: z.string(),
    aslCode: z.string(),
    ssaCode: z.string(),
    taxCode: z.string().optional(),
  }),
]);
const credentialFields = {
  label: z.string().describe('Unique within the tenant'),
  environment: z.enum(['test', 'production']),
  kind: z.enum(['basic', 'entratel', 'client-certificate']),
  user: z.string().describe('A codice fiscale, a structure user code, or the Entratel user'),
  password: z.string().describe('Write-only'),
  pincode: z.string().describe('10 digits; write-only'),
  entratelPin: z.string().describe('`kind: entratel`: 8 characters; write-only'),
  entratelSiteCode: z.string().describe('`kind: entratel`: codice fiscale-sede, e.g. `07874631000-000`'),
  clientCertificate: z
    .object({ pkcs12: z.string().describe('base64'), passphrase: z.string() })
    .describe('`kind: client-certificate`; write-only'),
  owner,
  vatNumbers: z.array(z.string()),
  sendingMode: z.enum(SENDING_MODES),
  pacing: z.looseObject({ maxInFlight: z.int(), requestsPerMinute: z.int() }),
  passwordChangedAt: z.string().describe('A date, `2026-02-10`'),
  passwordValidityDays: z.int(),
};
const credentialInput = z
  .looseObject({
    ...credentialFields,
    user: credentialFields.user.optional(),
    password: credentialFields.password.optional(),
    pincode: credentialFields.pincode.optional(),
    entratelPin: credentialFields.entratelPin.optional(),
    entratelSiteCode: credentialFields.entratelSiteCode.optional(),
    clientCertificate: credentialFields.clientCertificate.optional(),
    vatNumbers: credentialFields.vatNumbers.optional(),
    sendingMode: credentialFields.sendingMode.optional(),
    pacing: credentialFields.pacing.optional(),
    passwordChangedAt: credentialFields.passwordChangedAt.optional(),
    passwordValidityDays: credentialFields.passwordValidityDays.optional(),
  })
  .describe('A credential; the fields each `kind` needs are listed in the description.');
const credentialChange = z.looseObject(credentialFields).partial().describe('Only the fields to change.');

const remedy = z.object({ it: z.string(), en: z.string() });
const testsPause = z.object({ pausedUntil: z.string().nullable(), pausedReason: z.string().nullable() });
const loginBudget = z
  .looseObject({ attemptsUsed: z.int(), inProgress: z.int(), budget: z.int(), spent: z.boolean() })
  .nullable()
  .describe('The failed-login budget of the STS login (null: a certificate-only credential)');
const credential = z.looseObject({
  id: z.uuid(),
  label: z.string(),
  environment: z.string(),
  kind: z.string(),
  user: z.string().nullable(),
  owner: z.looseObject({ kind: z.enum(['professional', 'structure']) }),
  status: z.enum(CREDENTIAL_STATUSES),
  statusReason: z.string().nullable(),
  usable: z.boolean(),
  secrets: z
    .record(z.string(), z.looseObject({ set: z.boolean(), hint: z.string().optional() }))
    .describe('Which secrets are set, never their values: the last two characters of a pincode or PIN'),
  tests: testsPause,
  loginBudget,
  createdAt: z.string(),
  updatedAt: z.string(),
});
const fieldProblem = z.looseObject({ field: z.string(), rule: z.string(), message: z.string() });
const testOutcome = z.looseObject({
  outcome: z.string().describe('`valid`, `wrong-or-expired-password`, `wrong-pincode`, `wrong-user`, …'),
  status: z.enum(CREDENTIAL_STATUSES),
  usable: z.boolean(),
  remedy,
  sts: z.object({ code: z.string(), description: z.string() }).optional(),
  testedAt: z.string(),
  tests: testsPause,
  loginBudget,
});
const credentialAnswer = z.looseObject({
  credential,
  warnings: z.array(fieldProblem).optional().describe('On create and change'),
  test: testOutcome.optional().describe('With `?test=true`'),
  testRefused: problemSchema.optional().describe('With `?test=true`, when the test may not run'),
});
const credentialList = z.looseObject({
  items: z.array(credential),
  next: z.uuid().nullable().describe('Pass as `after` for the next page; null: the last page'),
});

const loginBudgetExample = {
  attemptsUsed: 0,
  inProgress: 0,
  budget: 3,
  spent: false,
  lastFailure: null,
  stopped: null,
  lastReset: null,
};
const credentialExample = {
  id: EXAMPLE_ID,
  label: 'Dr Rossi',
  environment: 'production',
  kind: 'basic',
  user: 'RSSMRA85T10A562S',
  owner: { kind: 'professional' as const, taxCode: 'RSSMRA85T10A562S' },
  vatNumbers: ['12345678903'],
  sendingMode: 'auto',
  pacing: { maxInFlight: 1, requestsPerMinute: 30 },
  status: 'valid' as const,
  statusReason: null,
  statusChangedAt: '2026-02-10T09:15:00.000Z',
  usable: true,
  secrets: { password: { set: true }, pincode: { set: true, hint: '••••••••87' } },
  password: {
    changedAt: '2026-02-10T00:00:00.000Z',
    validityDays: 90,
    expectedExpiry: '2026-05-11T00:00:00.000Z',
  },
  lastTest: { at: '2026-02-10T09:15:00.000Z', outcome: 'valid' },
  tests: { pausedUntil: null, pausedReason: null },
  loginBudget: loginBudgetExample,
  createdAt: '2026-02-10T09:14:58.000Z',
  updatedAt: '2026-02-10T09:15:00.000Z',
};
const inputExample = {
  label: 'Dr Rossi',
  environment: 'production' as const,
  kind: 'basic' as const,
  user: 'RSSMRA85T10A562S',
  password: 'Cambiami.2026',
  pincode: '1234567887',
  owner: { taxCode: 'RSSMRA85T10A562S' },
  vatNumbers: ['12345678903'],
  sendingMode: 'auto' as const,
  pacing: { maxInFlight: 1, requestsPerMinute: 30 },
  passwordChangedAt: '2026-02-10',
  passwordValidityDays: 90,
};
const wrongPasswordExample = {
  outcome: 'wrong-or-expired-password',
  status: 'invalid' as const,
  usable: false,
  remedy: {
    it: 'Il Sistema TS ha rifiutato l’accesso: password errata o scaduta. Accedere al portale sistemats.it, cambiare la password, inserire la nuova password nella credenziale e ripetere il test.',
    en: 'Sistema TS refused the login: the password is wrong or has expired. Log in to the sistemats.it portal, change the password, enter the new one in the credential and run the test again.',
  },
  sts: { code: 'authentication', description: 'Errore generico di autenticazione' },
  testedAt: '2026-03-01T04:00:00.000Z',
  tests: { pausedUntil: '2026-03-01T10:00:00.000Z', pausedReason: 'wrong-or-expired-password' },
  loginBudget: {
    ...loginBudgetExample,
    attemptsUsed: 1,
    lastFailure: { at: '2026-03-01T04:00:00.000Z', outcome: 'wrong-or-expired-password' },
  },
};
const validTestExample = {
  outcome: 'valid',
  status: 'valid' as const,
  usable: true,
  remedy: { it: 'Nessuna azione necessaria.', en: 'Nothing to do.' },
  testedAt: '2026-02-10T09:15:00.000Z',
  tests: { pausedUntil: null, pausedReason: null },
  loginBudget: loginBudgetExample,
};

const noSuchCredential = (instance: string) =>
  problemResponse(
    'No such credential for this tenant (or an id that is not a uuid).',
    notFound('The credential'),
    {
      instance,
    },
  );
const labelTaken = problemResponse(
  'Another credential of the tenant has this label.',
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
  }),
  { instance: CREDENTIALS_PREFIX },
);
const passwordKnownToFail = (instance: string) =>
  problemResponse(
    'The password already failed for this STS user: nothing was stored.',
    new ProblemError({
      status: 422,
      type: 'password-known-to-fail',
      title: 'This password already failed for this STS user',
      detail:
        'The STS already refused this password for this user. Sending it again brings the user closer to being locked: enter the password that works on the sistemats.it portal.',
      errors: [
        {
          field: 'password',
          rule: 'password.known-to-fail',
          message:
            'The STS already refused this password for this user: enter the one that works on the portal.',
        },
      ],
    }),
    { instance },
  );
/** 503: the credentials service could not answer (nothing it said is passed on), or the gateway is overloaded. */
function unavailableResponse(instance: string): ResponseSpec<typeof problemSchema> {
  const down = problemResponse('', unavailable(30), { instance });
  const busy = problemResponse('', overloaded(10), { instance });
  return {
    description:
      'The credentials service cannot answer right now (unreachable, too slow, failing), or the gateway is overloaded: send again after `Retry-After` seconds.',
    schema: problemSchema,
    contentType: 'application/problem+json',
    examples: {
      'credentials-unavailable': {
        ...Object.values(down.examples ?? {})[0]!,
        summary: 'Credentials service unavailable',
      },
      overloaded: { ...Object.values(busy.examples ?? {})[0]!, summary: 'Gateway overloaded' },
    },
    headers: retryAfter,
  };
}

const ANSWER_NOTE =
  'Answered by the credentials service and passed on as it is (status, body, `Retry-After`); secrets are never shown: `secrets.password` is `{ "set": true }`, a pincode or PIN shows its last two characters.';
const AUDIT_NOTE = 'An optional `X-Audit-Reason` header goes into the audit log as the "why".';
const KINDS_NOTE = [
  "`kind: basic`: `user` (a 16-character codice fiscale, or a structure's 8-character user code), `password`, `pincode` (10 digits).",
  '`kind: entratel`: `user`, `password`, `entratelPin` (8 characters), `entratelSiteCode`.',
  '`kind: client-certificate`: `clientCertificate: { pkcs12, passphrase }`, `pincode`; `user`/`password` optional.',
  '`owner` is a professional `{ taxCode }` or a structure `{ regionCode, aslCode, ssaCode, taxCode? }`.',
].join('\n- ');
const TAGS = ['Credentials'] as const;

const docs = {
  create: routeSchema({
    summary: 'Store an STS credential',
    description: [
      "Stores a doctor's or structure's Sistema TS credential, encrypted; it starts `untested`.",
      `Every bad field is answered at once (400). ${AUDIT_NOTE}`,
      `\n\n- ${KINDS_NOTE}`,
      '\n\nWith `?test=true` the test runs right after (`test` in the answer), or `testRefused` says why it may not run; the credential is stored either way.',
      `\n\n${ANSWER_NOTE}`,
    ].join(' '),
    tags: [...TAGS],
    operationId: 'createCredential',
    querystring: testQuery,
    body: {
      schema: credentialInput,
      validation: 'handler',
      examples: { basic: { summary: "A doctor's Sistema TS login", value: inputExample } },
    },
    response: {
      201: {
        description:
          'Stored (`Location` names it); `warnings` lists what was accepted but may cause trouble.',
        schema: credentialAnswer,
        headers: { location: { description: 'The new credential', schema: z.string() } },
        examples: {
          created: {
            value: {
              credential: {
                ...credentialExample,
                status: 'untested' as const,
                statusReason: null,
                usable: false,
                lastTest: null,
              },
              warnings: [],
            },
          },
          tested: {
            summary: 'With ?test=true',
            value: { credential: credentialExample, warnings: [], test: validTestExample },
          },
        },
      },
      409: labelTaken,
      422: passwordKnownToFail(CREDENTIALS_PREFIX),
      503: unavailableResponse(CREDENTIALS_PREFIX),
    },
  }),
  list: routeSchema({
    summary: 'List the STS credentials',
    description: `The tenant's credentials by id, a page at a time: pass \`next\` as \`after\` for the next page. ${ANSWER_NOTE}`,
    tags: [...TAGS],
    operationId: 'listCredentials',
    querystring: listQuery,
    response: {
      200: {
        description: 'A page of credentials.',
        schema: credentialList,
        examples: { page: { value: { items: [credentialExample], next: null } } },
      },
      503: unavailableResponse(CREDENTIALS_PREFIX),
    },
  }),
  get: routeSchema({
    summary: 'One STS credential',
    description: `Its metadata, status, masked secrets, test pause and failed-login budget. ${ANSWER_NOTE}`,
    tags: [...TAGS],
    operationId: 'getCredential',
    params: idParams,
    response: {
      200: {
        description: 'The credential.',
        schema: credentialAnswer,
        examples: { valid: { value: { credential: credentialExample } } },
      },
      404: noSuchCredential(EXAMPLE_PATH),
      503: unavailableResponse(EXAMPLE_PATH),
    },
  }),
  update: routeSchema({
    summary: 'Change an STS credential',
    description: [
      'Changes the fields given. A new password, pincode, PIN, certificate or user makes it `untested` and lifts a test pause.',
      `${AUDIT_NOTE} With \`?test=true\` the test runs right after, as on create. ${ANSWER_NOTE}`,
    ].join(' '),
    tags: [...TAGS],
    operationId: 'updateCredential',
    params: idParams,
    querystring: testQuery,
    body: {
      schema: credentialChange,
      validation: 'handler',
      examples: {
        newPassword: {
          summary: 'The password was changed on the portal',
          value: { password: 'Nuova.Password.2026', passwordChangedAt: '2026-03-01' },
        },
      },
    },
    response: {
      200: {
        description: 'Changed.',
        schema: credentialAnswer,
        examples: {
          changed: {
            value: {
              credential: { ...credentialExample, status: 'untested' as const, usable: false },
              warnings: [],
            },
          },
        },
      },
      404: noSuchCredential(EXAMPLE_PATH),
      409: labelTaken,
      422: passwordKnownToFail(EXAMPLE_PATH),
      503: unavailableResponse(EXAMPLE_PATH),
    },
  }),
  remove: routeSchema({
    summary: 'Delete an STS credential',
    description: `Deletes it and destroys its encryption key: nothing of it can be read again. ${AUDIT_NOTE}`,
    tags: [...TAGS],
    operationId: 'deleteCredential',
    params: idParams,
    response: {
      204: { description: 'Deleted.' },
      404: noSuchCredential(EXAMPLE_PATH),
      503: unavailableResponse(EXAMPLE_PATH),
    },
  }),
  test: routeSchema({
    summary: 'Test an STS credential',
    description: [
      'Makes one harmless call to the Sistema TS with the credential and answers the outcome, with a `remedy` in Italian and English.',
      'A refused login pauses tests (each failed login counts towards the STS locking the user): until `tests.pausedUntil`, or until the credential changes.',
      "While paused, or when the login's failed-login budget is spent or the password already failed, the answer is 409 without any call.",
      ANSWER_NOTE,
    ].join(' '),
    tags: [...TAGS],
    operationId: 'testCredential',
    params: idParams,
    response: {
      200: {
        description: 'The outcome of the test (also when the STS refused the login).',
        schema: testOutcome,
        examples: {
          valid: { value: validTestExample },
          wrongPassword: { summary: 'The STS refused the login', value: wrongPasswordExample },
        },
      },
      404: noSuchCredential(`${EXAMPLE_PATH}/test`),
      409: problemResponse(
        "Tests are paused after a login failure (`Retry-After` when the pause ends), the login's failed-login budget is spent, or the password already failed.",
        new ProblemError({
          status: 409,
          type: 'test-paused',
          title: 'Test paused after a login failure',
          detail:
            'The last attempt ended in "wrong-or-expired-password". To protect the STS user from being locked, the next test can run after 2026-03-01T10:00:00.000Z, or at once after the credential is updated.',
        }),
        { instance: `${EXAMPLE_PATH}/test`, headers: retryAfter },
      ),
      503: unavailableResponse(`${EXAMPLE_PATH}/test`),
    },
  }),
};

/**
 * Registers `/v1/credentials…` on `api`, the scope guarded by `apiKeyAuth`: create, list, get,
 * change, delete, test. Bodies reach the credentials service as they arrived (a JSON parser that
 * keeps the bytes, bounded by `CREDENTIALS_BODY_LIMIT`), in a scope of their own.
 */
export function registerCredentialRoutes(
  api: FastifyInstance,
  { credentials }: { credentials: CredentialsClient },
): void {
  void api.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: CREDENTIALS_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    const options = { config: MANAGE, bodyLimit: CREDENTIALS_BODY_LIMIT };

    scope.post(CREDENTIALS_PREFIX, { ...options, schema: docs.create }, (request, reply) => {
      const caller = callerOf(request);
      const body = bodyOf(request);
      const query = queryOf(request);
      return relay(request, reply, () =>
        credentials.create(caller, { ...(query ? { query } : {}), ...(body ? { body } : {}) }),
      );
    });
    scope.get(CREDENTIALS_PREFIX, { ...options, schema: docs.list }, (request, reply) => {
      const caller = callerOf(request);
      const query = queryOf(request);
      return relay(request, reply, () => credentials.list(caller, query ? { query } : {}));
    });
    scope.get(`${CREDENTIALS_PREFIX}/:id`, { ...options, schema: docs.get }, (request: IdRequest, reply) => {
      const caller = callerOf(request);
      const id = idOf(request);
      return relay(request, reply, () => credentials.get(caller, id));
    });
    scope.patch(
      `${CREDENTIALS_PREFIX}/:id`,
      { ...options, schema: docs.update },
      (request: IdRequest, reply) => {
        const caller = callerOf(request);
        const id = idOf(request);
        const body = bodyOf(request);
        const query = queryOf(request);
        return relay(request, reply, () =>
          credentials.update(caller, id, { ...(query ? { query } : {}), ...(body ? { body } : {}) }),
        );
      },
    );
    scope.delete(
      `${CREDENTIALS_PREFIX}/:id`,
      { ...options, schema: docs.remove },
      (request: IdRequest, reply) => {
        const caller = callerOf(request);
        const id = idOf(request);
        return relay(request, reply, () => credentials.remove(caller, id));
      },
    );
    scope.post(
      `${CREDENTIALS_PREFIX}/:id/test`,
      { ...options, schema: docs.test },
      (request: IdRequest, reply) => {
        const caller = callerOf(request);
        const id = idOf(request);
        return relay(request, reply, () => credentials.test(caller, id));
      },
    );
  });
}
