import {
  CREDENTIAL_STATUSES,
  type CredentialLease,
  type CredentialStatus,
  createServiceTokenSigner,
  credentialLeaseSchema,
  INTERNAL_ROUTES,
  SERVICE_SCOPES,
  type ServiceTokenKey,
} from '@sts/shared';
import { z } from 'zod';

/**
 * The submitter's client of the credentials service's internal API (`INTERNAL_ROUTES.credentials`,
 * services/credentials/README.md, "Internal"): leases (`POST /:id/leases`, scope
 * `credentials:lease`) and failure reports (`POST /:id/authentication-failures`, scope
 * `credentials:report`). Every call carries a fresh service token (a token serves one call): issuer
 * `submitter`, audience `credentials`, the tenant, subject `submitter`.
 *
 * Nothing is thrown for what the credentials service answers or fails to answer: a lease is a
 * `LeaseResult`, a report a `ReportResult`, each saying why when it did not work. `unavailable`
 * means the service (not the credential): unreachable, too slow, 5xx, its answer unreadable, or our
 * own token refused (a key configured on one side only). Bodies are never logged nor put in a
 * `detail`: a lease carries the password. `detail` holds statuses, problem types and the credentials
 * service's own `detail` (which never repeats a secret), and network error codes, never messages.
 */

/** Why a credential cannot be used now; `unavailable` is about the credentials service. */
export const LEASE_REFUSAL_REASONS = [
  /** Not `valid`/`password_expiring` (409 `credential-unusable`): block its documents. */
  'unusable',
  /** The STS login's failed-login budget is spent (409 `login-budget-spent`). */
  'budget-spent',
  /** The STS already refused this password for this login (409 `password-known-to-fail`). */
  'password-known-to-fail',
  /** No such credential for this tenant (404). */
  'not-found',
  /** The credentials service could not answer: retry after `retryAfterMs`. */
  'unavailable',
] as const;
export type LeaseRefusalReason = (typeof LEASE_REFUSAL_REASONS)[number];

export interface CredentialRefusal {
  ok: false;
  reason: LeaseRefusalReason;
  /** For `unavailable`: when to try again (the service's `Retry-After`, or a default). */
  retryAfterMs?: number;
  /** For logs and the document's status: never a secret. */
  detail: string;
}

export type LeaseResult = { ok: true; lease: CredentialLease } | CredentialRefusal;

/**
 * A failure to report: the `StsFailure` of `@sts/sts` of kind `authentication` or `credential` (the
 * STS client's own object may be passed as it is; its `explanation` is not sent).
 */
export type ReportableFailure =
  | { kind: 'authentication'; reason: string; faultString: string }
  | { kind: 'credential'; code: string; description: string };

export type ReportResult =
  | {
      ok: true;
      /**
       * `false`: the lease predates a change of the secrets, the report changed nothing. The three
       * fields are absent only when the service took the report but its answer broke the contract.
       */
      applied?: boolean;
      status?: CredentialStatus;
      usable?: boolean;
    }
  | {
      ok: false;
      /**
       * `unavailable`: still unanswered after the retries (report again later: the credential is
       * not marked yet); `not-found`: the credential is gone; `refused`: the report itself was
       * refused (400: unknown lease, a malformed failure), sending it again changes nothing.
       */
      reason: 'unavailable' | 'not-found' | 'refused';
      retryAfterMs?: number;
      detail: string;
    };

export interface CredentialsClient {
  /** `POST /internal/v1/credentials/:id/leases` `{ purpose }`. */
  lease(credentialId: string, options: { tenantId: string; purpose: string }): Promise<LeaseResult>;
  /**
   * `POST /internal/v1/credentials/:id/authentication-failures`: what makes the credential
   * `invalid` (and counts a refused login against its budget). Retried on network errors and 5xx.
   */
  reportFailure(
    credentialId: string,
    report: { tenantId: string; leaseId: string; failure: ReportableFailure },
  ): Promise<ReportResult>;
}

export interface CredentialsClientOptions {
  /** The credentials service's base URL (`CREDENTIALS_URL`), e.g. `http://credentials:8081`. */
  baseUrl: string;
  /** The submitter's own key: issuer `submitter`, granting `credentials:lease` and `credentials:report`. */
  signingKey: ServiceTokenKey;
  /** Per call, from sending to the whole answer read (default 10 s). */
  timeoutMs?: number;
  /** Attempts of a failure report that meets a network error or a 5xx (default 4). */
  reportAttempts?: number;
  /** Wait before the second attempt of a report; doubled each time, with jitter (default 250 ms). */
  reportBackoffMs?: number;
  /** `retryAfterMs` when the service gave no usable `Retry-After` (default 5 s). */
  defaultRetryAfterMs?: number;
  clock?: () => Date;
}

const PREFIX = INTERNAL_ROUTES.credentials;
const SUBJECT = 'submitter';
const MAX_RETRY_AFTER_SECONDS = 3600;
const MAX_DETAIL = 500;

const reportAnswerSchema = z.object({
  applied: z.boolean(),
  status: z.enum(CREDENTIAL_STATUSES),
  usable: z.boolean(),
});

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

const retryAfterMsOf = (value: string | null) => {
  const seconds = value && /^\d{1,6}$/.test(value) ? Number(value) : undefined;
  return seconds && seconds > 0 ? Math.min(seconds, MAX_RETRY_AFTER_SECONDS) * 1000 : undefined;
};

/** A problem's type without the base URL (`credential-unusable`), and its detail, if the body is one. */
function problemOf(text: string): { type: string | undefined; detail: string | undefined } {
  try {
    const body = JSON.parse(text) as { type?: unknown; detail?: unknown };
    const type = typeof body.type === 'string' ? body.type.split('/').at(-1) : undefined;
    const detail = typeof body.detail === 'string' ? body.detail.slice(0, MAX_DETAIL) : undefined;
    return { type, detail };
  } catch {
    return { type: undefined, detail: undefined };
  }
}

type Exchange =
  | { ok: true; status: number; retryAfterMs: number | undefined; text: string }
  | { ok: false; detail: string };

export function createCredentialsClient({
  baseUrl,
  signingKey,
  timeoutMs = 10_000,
  reportAttempts = 4,
  reportBackoffMs = 250,
  defaultRetryAfterMs = 5_000,
  clock,
}: CredentialsClientOptions): CredentialsClient {
  const signer = createServiceTokenSigner({ key: signingKey, ...(clock ? { clock } : {}) });
  const base = baseUrl.replace(/\/+$/, '');
  const one = (id: string) => `${base}${PREFIX}/${encodeURIComponent(id)}`;

  /** One POST with a fresh token; the answer, or why there was none (never a message of fetch's). */
  async function post(url: string, tenantId: string, scope: string, body: unknown): Promise<Exchange> {
    const authorization = `Bearer ${signer.sign({
      audience: 'credentials',
      tenantId,
      subject: SUBJECT,
      scopes: [scope],
    })}`;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          accept: 'application/json, application/problem+json',
          'content-type': 'application/json',
          authorization,
        },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      return {
        ok: true,
        status: response.status,
        retryAfterMs: retryAfterMsOf(response.headers.get('retry-after')),
        text,
      };
    } catch (error) {
      const code = networkCode(error);
      const timedOut =
        (error as { name?: string }).name === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT';
      return {
        ok: false,
        detail: `credentials service ${timedOut ? `did not answer within ${timeoutMs} ms` : 'unreachable'}${code ? ` (${code})` : ''}`,
      };
    }
  }

  /** What every call shares: the service, not the caller, failed (5xx, our token refused). */
  function serviceFailure(answer: Exchange & { ok: true }): string | undefined {
    if (answer.status >= 500) {
      const { type } = problemOf(answer.text);
      return `credentials service answered ${answer.status}${type ? ` ${type}` : ''}`;
    }
    if (answer.status === 401 || answer.status === 403) {
      const { type } = problemOf(answer.text);
      return `credentials service refused the submitter's service token (${answer.status}${type ? ` ${type}` : ''}): check SERVICE_TOKEN_KEYS on both sides`;
    }
    return undefined;
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  return {
    async lease(credentialId, { tenantId, purpose }) {
      const answer = await post(`${one(credentialId)}/leases`, tenantId, SERVICE_SCOPES.credentialsLease, {
        purpose,
      });
      if (!answer.ok)
        return { ok: false, reason: 'unavailable', retryAfterMs: defaultRetryAfterMs, detail: answer.detail };
      const failed = serviceFailure(answer);
      if (failed) {
        return {
          ok: false,
          reason: 'unavailable',
          retryAfterMs: answer.retryAfterMs ?? defaultRetryAfterMs,
          detail: failed,
        };
      }
      if (answer.status === 201 || answer.status === 200) {
        let body: unknown;
        try {
          body = JSON.parse(answer.text);
        } catch {
          body = undefined;
        }
        const parsed = credentialLeaseSchema.safeParse(body);
        if (parsed.success) return { ok: true, lease: parsed.data };
        // Paths only: a message could quote a value, and a lease holds the password.
        const paths = parsed.error.issues
          .slice(0, 3)
          .map((issue) => issue.path.join('.') || '(body)')
          .join(', ');
        return {
          ok: false,
          reason: 'unavailable',
          retryAfterMs: defaultRetryAfterMs,
          detail: `the credentials service's lease does not match the contract (${paths})`,
        };
      }
      const { type, detail } = problemOf(answer.text);
      const said = `${answer.status}${type ? ` ${type}` : ''}${detail ? `: ${detail}` : ''}`;
      if (answer.status === 404)
        return { ok: false, reason: 'not-found', detail: `credential not found (${said})` };
      if (answer.status === 409) {
        const reason =
          type === 'login-budget-spent'
            ? 'budget-spent'
            : type === 'password-known-to-fail'
              ? 'password-known-to-fail'
              : 'unusable';
        return { ok: false, reason, detail: `lease refused (${said})` };
      }
      // 400 (a purpose it refuses) and the like: the submitter's own mistake, not the credential's.
      throw new Error(`the credentials service refused a lease request: ${said}`);
    },

    async reportFailure(credentialId, { tenantId, leaseId, failure }) {
      // Only what the README names: the STS client's `explanation` stays here.
      const body = {
        leaseId,
        failure:
          failure.kind === 'authentication'
            ? { kind: failure.kind, reason: failure.reason, faultString: failure.faultString }
            : { kind: failure.kind, code: failure.code, description: failure.description },
      };
      const url = `${one(credentialId)}/authentication-failures`;
      let last: { detail: string; retryAfterMs: number | undefined } = {
        detail: '',
        retryAfterMs: undefined,
      };
      for (let attempt = 1; attempt <= reportAttempts; attempt++) {
        if (attempt > 1) {
          const backoff = reportBackoffMs * 2 ** (attempt - 2);
          await sleep(backoff + Math.random() * backoff);
        }
        // A fresh token each attempt: the service accepts a token once.
        const answer = await post(url, tenantId, SERVICE_SCOPES.credentialsReport, body);
        if (!answer.ok) {
          last = { detail: answer.detail, retryAfterMs: undefined };
          continue;
        }
        const failed = serviceFailure(answer);
        if (failed) {
          last = { detail: failed, retryAfterMs: answer.retryAfterMs };
          // A refused token will be refused again; a 5xx may pass on the next attempt.
          if (answer.status < 500) break;
          continue;
        }
        if (answer.status === 200) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(answer.text);
          } catch {
            parsed = undefined;
          }
          const result = reportAnswerSchema.safeParse(parsed);
          // Taken either way: only its answer may be unexpected (then nothing is claimed about it).
          return result.success ? { ok: true, ...result.data } : { ok: true };
        }
        const { type, detail } = problemOf(answer.text);
        const said = `${answer.status}${type ? ` ${type}` : ''}${detail ? `: ${detail}` : ''}`;
        if (answer.status === 404)
          return { ok: false, reason: 'not-found', detail: `credential not found (${said})` };
        return { ok: false, reason: 'refused', detail: `failure report refused (${said})` };
      }
      return {
        ok: false,
        reason: 'unavailable',
        retryAfterMs: last.retryAfterMs ?? defaultRetryAfterMs,
        detail: `failure report not delivered after ${reportAttempts} attempts: ${last.detail}`,
      };
    },
  };
}
