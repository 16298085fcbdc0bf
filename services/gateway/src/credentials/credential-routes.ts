import {
  API_KEY_SCOPES,
  INTERNAL_ROUTES,
  invalidRequest,
  notFound,
  ProblemError,
  refusedCharacters,
} from '@sts/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../api-keys/api-key-auth.ts';
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

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

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

    scope.post(CREDENTIALS_PREFIX, options, (request, reply) => {
      const caller = callerOf(request);
      const body = bodyOf(request);
      const query = queryOf(request);
      return relay(request, reply, () =>
        credentials.create(caller, { ...(query ? { query } : {}), ...(body ? { body } : {}) }),
      );
    });
    scope.get(CREDENTIALS_PREFIX, options, (request, reply) => {
      const caller = callerOf(request);
      const query = queryOf(request);
      return relay(request, reply, () => credentials.list(caller, query ? { query } : {}));
    });
    scope.get(`${CREDENTIALS_PREFIX}/:id`, options, (request: IdRequest, reply) => {
      const caller = callerOf(request);
      const id = idOf(request);
      return relay(request, reply, () => credentials.get(caller, id));
    });
    scope.patch(`${CREDENTIALS_PREFIX}/:id`, options, (request: IdRequest, reply) => {
      const caller = callerOf(request);
      const id = idOf(request);
      const body = bodyOf(request);
      const query = queryOf(request);
      return relay(request, reply, () =>
        credentials.update(caller, id, { ...(query ? { query } : {}), ...(body ? { body } : {}) }),
      );
    });
    scope.delete(`${CREDENTIALS_PREFIX}/:id`, options, (request: IdRequest, reply) => {
      const caller = callerOf(request);
      const id = idOf(request);
      return relay(request, reply, () => credentials.remove(caller, id));
    });
    scope.post(`${CREDENTIALS_PREFIX}/:id/test`, options, (request: IdRequest, reply) => {
      const caller = callerOf(request);
      const id = idOf(request);
      return relay(request, reply, () => credentials.test(caller, id));
    });
  });
}
