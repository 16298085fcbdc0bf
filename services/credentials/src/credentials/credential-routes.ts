import {
  CREDENTIAL_STATUSES,
  type CredentialStatus,
  type FieldProblem,
  INTERNAL_ROUTES,
  invalidRequest,
  ProblemError,
  refusedCharacters,
  replaceRefusedCharacters,
  SERVICE_SCOPES,
  serviceTokenOf,
} from '@sts/shared';
import { lookupStsCode, STS_FAULTS } from '@sts/sts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { LeaseService } from '../leases/lease-service.ts';
import type { StsFailure } from '../sts/sts-client-factory.ts';
import type { CallContext, CredentialService } from './credential-service.ts';
import { isUuid } from './credential-store.ts';
import { classifyStsFailure } from './credential-test.ts';

// Prefixes and scopes are a contract with the gateway and the submitter (packages/shared): the
// gateway manages credentials on a tenant's behalf; the submitter leases them and reports failures.
const INTERNAL_PREFIX = INTERNAL_ROUTES.credentials;

const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: CREDENTIAL_STATUSES },
    after: { type: 'string', format: 'uuid' },
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  },
} as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64 } },
} as const;
const testQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { test: { type: 'boolean', default: false } },
} as const;

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * A "why" for the audit log (`context.reason`, stored in `audit_log.reason`), trimmed, with the
 * problem of its characters if any: every way into `context.reason` goes through here.
 */
export function checkedReason(
  field: string,
  text: string,
): { reason: string; problem: FieldProblem | undefined } {
  const reason = text.trim();
  return { reason, problem: refusedCharacters(field, reason) };
}

/** Why, for the audit log: an optional `X-Audit-Reason` header (the gateway passes the user's note). */
export const auditReason = (request: FastifyRequest) => {
  const header = request.headers['x-audit-reason'];
  if (typeof header !== 'string' || !header.trim()) return undefined;
  const { reason, problem } = checkedReason('x-audit-reason', header);
  if (problem) throw invalidRequest([problem]);
  return reason.slice(0, 200);
};

/** The call context of a request authenticated by a service token. */
export function tokenContext(request: FastifyRequest): CallContext {
  const token = serviceTokenOf(request);
  const reason = auditReason(request);
  return {
    scope: { kind: 'tenant', tenantId: token.tenantId },
    actor: { kind: 'service', id: `${token.issuer}:${token.subject}` },
    requestId: request.id,
    ...(reason ? { reason } : {}),
  };
}

/** Runs a credential test, putting a pause's end into `Retry-After`. */
async function runTest(service: CredentialService, context: CallContext, id: string, reply: FastifyReply) {
  try {
    return await service.test(context, id);
  } catch (error) {
    const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds;
    if (retryAfter) void reply.header('retry-after', String(retryAfter));
    throw error;
  }
}

/**
 * `?test=true` on a create or a change: the change is saved whatever the test says, so a test that
 * may not run (paused, login budget spent, a password known to fail) is reported in the answer as
 * `testRefused` (a problem), never as the status of an answer whose change did happen.
 */
async function testAfterChange(
  service: CredentialService,
  context: CallContext,
  id: string,
  request: FastifyRequest,
) {
  try {
    // Not `runTest`: a refused test's `Retry-After` must not ride on the saved change's answer.
    return { test: await service.test(context, id) };
  } catch (error) {
    if (!(error instanceof ProblemError) || error.status !== 409) throw error;
    // `instance` is the path without the query, as every other problem's (sendProblem).
    return { testRefused: error.toProblem(request.url.split('?')[0]) };
  }
}

/**
 * Routes an operator or the gateway share: list, get, change, test. `contextOf` says who calls
 * (service token or CNS certificate) and so whose credentials they see.
 */
export function registerSharedCredentialRoutes(
  app: FastifyInstance,
  {
    prefix,
    service,
    contextOf,
    scopes,
  }: {
    prefix: string;
    service: CredentialService;
    contextOf: (request: FastifyRequest) => CallContext;
    scopes?: readonly string[];
  },
) {
  const config: { acceptedScopes?: readonly string[] } = scopes ? { acceptedScopes: scopes } : {};
  app.get(prefix, { config, schema: { querystring: listQuery } }, async (request) => {
    const query = request.query as { status?: CredentialStatus; after?: string; limit: number };
    return service.list(contextOf(request), query);
  });
  app.get(`${prefix}/:id`, { config, schema: { params: idParams } }, async (request: IdRequest) =>
    service.get(contextOf(request), request.params.id),
  );
  app.patch(
    `${prefix}/:id`,
    { config, schema: { params: idParams, querystring: testQuery } },
    async (request: IdRequest) => {
      const context = contextOf(request);
      const result = await service.update(context, request.params.id, request.body);
      if (!(request.query as { test: boolean }).test) return result;
      return { ...result, ...(await testAfterChange(service, context, request.params.id, request)) };
    },
  );
  app.post(
    `${prefix}/:id/test`,
    { config, schema: { params: idParams } },
    async (request: IdRequest, reply) => runTest(service, contextOf(request), request.params.id, reply),
  );
}

/** The internal API behind the gateway (manage) and for the submitter (lease, report). */
export function registerInternalCredentialRoutes(
  app: FastifyInstance,
  { service, leases }: { service: CredentialService; leases: LeaseService },
) {
  const manage = { acceptedScopes: [SERVICE_SCOPES.credentialsManage] };
  app.post(
    INTERNAL_PREFIX,
    { config: manage, schema: { querystring: testQuery } },
    async (request, reply) => {
      const context = tokenContext(request);
      const created = await service.create(context, request.body);
      void reply.code(201).header('location', `${INTERNAL_PREFIX}/${created.credential.id}`);
      if (!(request.query as { test: boolean }).test) return created;
      return {
        ...created,
        ...(await testAfterChange(service, context, created.credential.id, request)),
      };
    },
  );
  app.delete(
    `${INTERNAL_PREFIX}/:id`,
    { config: manage, schema: { params: idParams } },
    async (request: IdRequest, reply) => {
      await service.remove(tokenContext(request), request.params.id);
      return reply.code(204).send();
    },
  );
  registerSharedCredentialRoutes(app, {
    prefix: INTERNAL_PREFIX,
    service,
    contextOf: tokenContext,
    scopes: [SERVICE_SCOPES.credentialsManage],
  });

  app.post(
    `${INTERNAL_PREFIX}/:id/leases`,
    { config: { acceptedScopes: [SERVICE_SCOPES.credentialsLease] }, schema: { params: idParams } },
    async (request: IdRequest, reply) => {
      const lease = await leases.lease(tokenContext(request), request.params.id, request.body);
      return reply.code(201).header('cache-control', 'no-store').send(lease);
    },
  );

  app.post(
    `${INTERNAL_PREFIX}/:id/authentication-failures`,
    { config: { acceptedScopes: [SERVICE_SCOPES.credentialsReport] }, schema: { params: idParams } },
    async (request: IdRequest) => {
      const context = tokenContext(request);
      const id = request.params.id;
      await service.load(context, id);
      const report = readFailureReport(request.body);
      const lease = isUuid(report.leaseId)
        ? await leases.findLease(serviceTokenOf(request).tenantId, id, report.leaseId)
        : undefined;
      if (!lease) {
        throw invalidRequest([
          {
            field: 'leaseId',
            rule: 'unknown-lease',
            message:
              'No lease with this id was issued for this credential: send the leaseId the failing call used.',
          },
        ]);
      }
      return service.reportFailure(context, id, {
        leaseSecretsVersion: lease.secretsVersion,
        verdict: classifyStsFailure(report.failure),
      });
    },
  );
}

/**
 * A sender's failure report: the `StsFailure` the STS client returned, reduced to what identifies
 * it. Only login and credential failures change a credential; the explanation comes from the
 * catalogue. Any login-failure reason is taken (a catalogue fault, `http-401`, one added to the
 * client later): all but `password-expired` and `account-locked` mean a wrong or expired password.
 */
function readFailureReport(body: unknown): { leaseId: string; failure: StsFailure } {
  const value = (body ?? {}) as { leaseId?: unknown; failure?: Record<string, unknown> };
  const problems = [];
  if (typeof value.leaseId !== 'string') {
    problems.push({
      field: 'leaseId',
      rule: 'required',
      message: 'Send the id of the lease the failing call used.',
    });
  }
  const failure = value.failure;
  // What the STS said is relayed, not typed: kept (500 characters), control characters as spaces.
  const text = (v: unknown) => (typeof v === 'string' ? replaceRefusedCharacters(v.slice(0, 500)) : '');
  // A reason or a code names a catalogue entry: short and plain, or the report is refused.
  for (const field of ['reason', 'code'] as const) {
    const given = failure?.[field];
    if (typeof given !== 'string') continue;
    const problem =
      given.length > 64
        ? {
            field: `failure.${field}`,
            rule: 'length',
            message: `failure.${field} has at most 64 characters.`,
          }
        : refusedCharacters(`failure.${field}`, given);
    if (problem) problems.push(problem);
  }
  if (failure?.kind === 'authentication' && typeof failure.reason === 'string') {
    const reason = failure.reason;
    const entry = STS_FAULTS.find((fault) => fault.code === reason);
    if (problems.length) throw invalidRequest(problems);
    return {
      leaseId: value.leaseId as string,
      failure: {
        kind: 'authentication',
        reason,
        faultString: text(failure.faultString),
        explanation: entry?.explanation ?? { it: '', en: '' },
      },
    };
  }
  if (failure?.kind === 'credential' && typeof failure.code === 'string') {
    const entry = lookupStsCode(failure.code, 'upload-result', { text: text(failure.description) });
    if (problems.length) throw invalidRequest(problems);
    return {
      leaseId: value.leaseId as string,
      failure: {
        kind: 'credential',
        code: failure.code,
        description: text(failure.description) || entry.text,
        explanation: entry.explanation,
      },
    };
  }
  problems.push({
    field: 'failure',
    rule: 'kind',
    message:
      'Report the failure the STS client returned: { "kind": "authentication", "reason", "faultString" } or { "kind": "credential", "code", "description" }. Transient failures say nothing about the credential: do not report them.',
  });
  throw invalidRequest(problems);
}
