import {
  CREDENTIAL_KINDS,
  CREDENTIAL_STATUSES,
  type CredentialStatus,
  createServiceTokenSigner,
  INTERNAL_ROUTES,
  SENDING_MODES,
  SERVICE_SCOPES,
  type ServiceTokenKey,
  STS_ENVIRONMENT_NAMES,
} from '@sts/shared';
import { z } from 'zod';

/**
 * The gateway's client of the credentials service's internal API (`INTERNAL_ROUTES.credentials`,
 * services/credentials/README.md, "Internal"). Every call carries a fresh service token (the
 * credentials service accepts a token once): issuer `gateway`, audience `credentials`, the tenant,
 * subject `api-key:<id>` (who acts, for its audit log), scope `credentials:manage`.
 *
 * The route methods return the credentials service's answer as it came (status, the headers a
 * client may need, the body text), for the public routes to pass on. An answer the gateway cannot
 * pass on is thrown as `CredentialsUnavailableError`: the service cannot be reached or did not
 * answer in time, answered 5xx, or refused the gateway's own token (401/403: a key configured on
 * one side only), none of which is the caller's doing. Bodies are never logged nor put in errors:
 * they carry passwords and pincodes.
 */

/** Who a call is made for: the gateway tenant and the API key behind the request. */
export interface CredentialsCaller {
  tenantId: string;
  /** The API key's id: the token's subject is `api-key:<apiKeyId>`. */
  apiKeyId: string;
  /** `X-Audit-Reason`, passed on for the credentials service's audit log. */
  auditReason?: string;
  /** The gateway's request id, passed on as `X-Request-Id` so both services' logs line up. */
  requestId?: string;
}

/** A request body as it arrived (the credentials service validates it), with its content type. */
export interface CredentialsRequestBody {
  contentType: string;
  body: Buffer | string;
}

export interface CredentialsCall {
  /** The raw query string, without `?` (`test=true`, `status=valid&limit=10`). */
  query?: string;
  body?: CredentialsRequestBody;
}

/** The credentials service's answer: status, the headers worth passing on, the body text. */
export interface CredentialsAnswer {
  status: number;
  /** Lower-case names; only `content-type`, `location`, `retry-after`, `cache-control`. */
  headers: Record<string, string>;
  /** The body as text (`''` for none). */
  body: string;
}

export type CredentialsUnavailableReason = 'unreachable' | 'timeout' | 'server-error' | 'token-refused';

/** The credentials service could not give an answer to pass on; say 503 and when to retry. */
export class CredentialsUnavailableError extends Error {
  readonly reason: CredentialsUnavailableReason;
  /** The upstream status, when there was one. */
  readonly upstreamStatus: number | undefined;
  /** Seconds to wait: the upstream's `Retry-After` when it gave a sane one. */
  readonly retryAfterSeconds: number;
  /** A network error's code (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`): never a message. */
  readonly code: string | undefined;

  constructor(options: {
    reason: CredentialsUnavailableReason;
    upstreamStatus?: number;
    retryAfterSeconds?: number;
    code?: string;
  }) {
    super(
      `credentials service unavailable (${options.reason}${options.upstreamStatus ? ` ${options.upstreamStatus}` : ''}${options.code ? ` ${options.code}` : ''})`,
    );
    this.name = 'CredentialsUnavailableError';
    this.reason = options.reason;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterSeconds = options.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS;
    this.code = options.code;
  }
}

/** A credential as `listAll` returns it: what a sender needs to choose one; the rest is dropped. */
export const credentialSummarySchema = z.object({
  id: z.uuid(),
  label: z.string(),
  environment: z.enum(STS_ENVIRONMENT_NAMES),
  kind: z.enum(CREDENTIAL_KINDS),
  /** The STS user (codice fiscale, structure code, Entratel user); null for a certificate-only one. */
  user: z.string().nullable(),
  owner: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('professional'), taxCode: z.string() }),
    z.object({
      kind: z.literal('structure'),
      regionCode: z.string().nullable(),
      aslCode: z.string().nullable(),
      ssaCode: z.string().nullable(),
      taxCode: z.string().nullable(),
    }),
  ]),
  vatNumbers: z.array(z.string()),
  sendingMode: z.enum(SENDING_MODES),
  status: z.enum(CREDENTIAL_STATUSES),
  /** Whether senders may use it now (`valid` or `password_expiring`). */
  usable: z.boolean(),
});
export type CredentialSummary = z.infer<typeof credentialSummarySchema>;

const listPageSchema = z.object({
  items: z.array(credentialSummarySchema),
  next: z.uuid().nullable(),
});

export interface CredentialsClient {
  /** `POST /internal/v1/credentials[?test=true]`. */
  create(caller: CredentialsCaller, call: CredentialsCall): Promise<CredentialsAnswer>;
  /** `GET /internal/v1/credentials?status=&after=&limit=`. */
  list(caller: CredentialsCaller, call?: CredentialsCall): Promise<CredentialsAnswer>;
  /** `GET /internal/v1/credentials/:id`. */
  get(caller: CredentialsCaller, id: string): Promise<CredentialsAnswer>;
  /** `PATCH /internal/v1/credentials/:id[?test=true]`. */
  update(caller: CredentialsCaller, id: string, call: CredentialsCall): Promise<CredentialsAnswer>;
  /** `DELETE /internal/v1/credentials/:id`. */
  remove(caller: CredentialsCaller, id: string): Promise<CredentialsAnswer>;
  /** `POST /internal/v1/credentials/:id/test`. */
  test(caller: CredentialsCaller, id: string): Promise<CredentialsAnswer>;
  /**
   * Every credential of `tenantId` (optionally only those in `status`), paging through
   * `GET ?after=` to the end, parsed. Throws `CredentialsUnavailableError` as the route methods do,
   * and an `Error` when an answer is not a list of credentials (the contract broke).
   */
  listAll(
    tenantId: string,
    options?: {
      status?: CredentialStatus;
      /** The token's subject, for the credentials service's audit log (default `gateway`). */
      subject?: string;
    },
  ): Promise<CredentialSummary[]>;
}

export interface CredentialsClientOptions {
  /** The credentials service's base URL (`CREDENTIALS_URL`), e.g. `http://credentials:8081`. */
  baseUrl: string;
  /** The gateway's own service-token key: issuer `gateway`, granting `credentials:manage`. */
  signingKey: ServiceTokenKey;
  /** Per call, from sending to the whole answer read (default 10 s). */
  timeoutMs?: number;
  /**
   * Calls that run a credential test (`/test`, `?test=true`) wait for the STS: longer (default
   * 150 s, beyond the credentials service's own STS answer timeout of 120 s).
   */
  testTimeoutMs?: number;
  /** Page size of `listAll` (default 200, the most the credentials service gives). */
  pageSize?: number;
  clock?: () => Date;
}

const DEFAULT_RETRY_AFTER_SECONDS = 5;
const MAX_RETRY_AFTER_SECONDS = 3600;
const PASSED_HEADERS = ['content-type', 'location', 'retry-after', 'cache-control'] as const;
const PREFIX = INTERNAL_ROUTES.credentials;

const retryAfterOf = (value: string | null) => {
  const seconds = value && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
  return seconds && seconds > 0 ? Math.min(seconds, MAX_RETRY_AFTER_SECONDS) : undefined;
};

/** The code of a network error (fetch wraps it as `cause`), never its message. */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const isTestQuery = (query: string | undefined) =>
  !!query && new URLSearchParams(query).getAll('test').some((value) => value !== 'false');

export function createCredentialsClient({
  baseUrl,
  signingKey,
  timeoutMs = 10_000,
  testTimeoutMs = 150_000,
  pageSize = 200,
  clock,
}: CredentialsClientOptions): CredentialsClient {
  const signer = createServiceTokenSigner({ key: signingKey, ...(clock ? { clock } : {}) });
  const base = baseUrl.replace(/\/+$/, '');

  async function call(
    caller: CredentialsCaller & { subject?: string },
    method: string,
    path: string,
    { query, body }: CredentialsCall = {},
    longCall = false,
  ): Promise<CredentialsAnswer> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      // A fresh token per call: the credentials service accepts each one once.
      authorization: `Bearer ${signer.sign({
        audience: 'credentials',
        tenantId: caller.tenantId,
        subject: caller.subject ?? `api-key:${caller.apiKeyId}`,
        scopes: [SERVICE_SCOPES.credentialsManage],
      })}`,
    };
    if (caller.auditReason !== undefined) headers['x-audit-reason'] = caller.auditReason;
    if (caller.requestId !== undefined) headers['x-request-id'] = caller.requestId;
    if (body) headers['content-type'] = body.contentType;
    const url = `${base}${path}${query ? `?${query}` : ''}`;
    const timeout = longCall || isTestQuery(query) ? testTimeoutMs : timeoutMs;
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeout),
        ...(body ? { body: body.body } : {}),
      });
      text = await response.text();
    } catch (error) {
      const code = networkCode(error);
      const timedOut =
        (error as { name?: string }).name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT';
      throw new CredentialsUnavailableError({
        reason: timedOut ? 'timeout' : 'unreachable',
        ...(code ? { code } : {}),
      });
    }
    if (response.status >= 500) {
      const retryAfterSeconds = retryAfterOf(response.headers.get('retry-after'));
      throw new CredentialsUnavailableError({
        reason: 'server-error',
        upstreamStatus: response.status,
        ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
      });
    }
    // The gateway's own token refused (a key configured on one side only, a clock far off): the
    // caller can do nothing about it, and it must not read as its API key being refused.
    if (response.status === 401 || response.status === 403) {
      throw new CredentialsUnavailableError({ reason: 'token-refused', upstreamStatus: response.status });
    }
    const passed: Record<string, string> = {};
    for (const name of PASSED_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) passed[name] = value;
    }
    return { status: response.status, headers: passed, body: text };
  }

  const one = (id: string) => `${PREFIX}/${encodeURIComponent(id)}`;

  return {
    create: (caller, request) => call(caller, 'POST', PREFIX, request),
    list: (caller, request) => call(caller, 'GET', PREFIX, request),
    get: (caller, id) => call(caller, 'GET', one(id)),
    update: (caller, id, request) => call(caller, 'PATCH', one(id), request),
    remove: (caller, id) => call(caller, 'DELETE', one(id)),
    test: (caller, id) => call(caller, 'POST', `${one(id)}/test`, {}, true),

    async listAll(tenantId, { status, subject = 'gateway' } = {}) {
      const caller = { tenantId, apiKeyId: '', subject };
      const items: CredentialSummary[] = [];
      let after: string | null = null;
      for (;;) {
        const query = new URLSearchParams({ limit: String(pageSize) });
        if (status) query.set('status', status);
        if (after) query.set('after', after);
        const answer = await call(caller, 'GET', PREFIX, { query: query.toString() });
        if (answer.status !== 200) {
          throw new Error(
            `the credentials service answered ${answer.status} to a list of tenant credentials`,
          );
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(answer.body);
        } catch {
          throw new Error('the credentials service answered a list of tenant credentials that is not JSON');
        }
        const page = listPageSchema.safeParse(parsed);
        if (!page.success) {
          throw new Error(
            `the credentials service's list does not match the contract: ${page.error.issues
              .slice(0, 3)
              .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
              .join('; ')}`,
          );
        }
        items.push(...page.data.items);
        if (!page.data.next || page.data.items.length === 0) return items;
        after = page.data.next;
      }
    },
  };
}
