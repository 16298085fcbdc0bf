import { Readable } from 'node:stream';
import {
  createServiceTokenSigner,
  type ServiceTokenKey,
  SUBMISSION_PROOFS,
  SUBMISSION_PROOFS_AUDIENCE,
  SUBMISSION_PROOFS_SCOPE,
  type SubmissionProofKind,
  type SubmissionStatus,
  submissionProofPath,
  submissionStatusPath,
  submissionStatusSchema,
} from '@sts/shared';

/**
 * The gateway's client of the submitter's submission routes: the proofs (contract:
 * packages/shared/src/contracts/submission-proofs.ts) and a send's status (submission-status.ts).
 * Each call carries a fresh service token: issuer `gateway`, audience `submitter`, scope
 * `submissions:read`, the tenant, subject `api-key:<id>`. A proof's body is streamed, never buffered
 * whole: the caller pipes it to its own answer.
 */

export interface SubmissionProofCaller {
  tenantId: string;
  apiKeyId: string;
  /** Passed on as `X-Request-Id`, so both services' logs line up. */
  requestId?: string;
}

export type SubmissionProofAnswer =
  | { status: 200; contentType: string; contentLength: number | undefined; body: Readable }
  /** The submitter knows no such proof for the tenant (404), or it is not ready yet (409). */
  | { status: 404 }
  | { status: 409; retryAfterSeconds: number | undefined };

export type SubmitterUnavailableReason =
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'token-refused'
  | 'contract';

/** The submitter gave no answer the gateway can pass on: say 503 and when to retry. */
export class SubmitterUnavailableError extends Error {
  readonly reason: SubmitterUnavailableReason;
  readonly upstreamStatus: number | undefined;
  readonly code: string | undefined;
  constructor(reason: SubmitterUnavailableReason, details: { upstreamStatus?: number; code?: string } = {}) {
    super(
      `submitter unavailable (${reason}${details.upstreamStatus ? ` ${details.upstreamStatus}` : ''}${details.code ? ` ${details.code}` : ''})`,
    );
    this.name = 'SubmitterUnavailableError';
    this.reason = reason;
    this.upstreamStatus = details.upstreamStatus;
    this.code = details.code;
  }
}

export type SubmissionStatusAnswer = { status: 200; body: SubmissionStatus } | { status: 404 };

export interface SubmissionProofClient {
  fetch(
    caller: SubmissionProofCaller,
    protocol: string,
    kind: SubmissionProofKind,
  ): Promise<SubmissionProofAnswer>;
  /** How the tenant's send with this protocol is doing (404: the submitter has no such send of it). */
  status(caller: SubmissionProofCaller, protocol: string): Promise<SubmissionStatusAnswer>;
}

export interface SubmissionProofClientOptions {
  /** The submitter's base URL (`SUBMITTER_URL`), e.g. `http://submitter:8082`. */
  baseUrl: string;
  /** The gateway's service-token key: issuer `gateway`, granting `submissions:read`. */
  signingKey: ServiceTokenKey;
  /** Until the answer's status and headers are in (default 10 s); the body then streams. */
  timeoutMs?: number;
  clock?: () => Date;
}

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

const retryAfterOf = (value: string | null) =>
  value && /^\d{1,5}$/.test(value) && Number(value) > 0 ? Math.min(Number(value), 3600) : undefined;

export function createSubmissionProofClient({
  baseUrl,
  signingKey,
  timeoutMs = 10_000,
  clock,
}: SubmissionProofClientOptions): SubmissionProofClient {
  const signer = createServiceTokenSigner({ key: signingKey, ...(clock ? { clock } : {}) });
  const base = baseUrl.replace(/\/+$/, '');
  /**
   * One call with a fresh token; network failures and timeouts as `SubmitterUnavailableError`. The
   * timeout runs until the answer's headers are in, or with `untilBodyRead` until `done()`.
   */
  async function call(
    caller: SubmissionProofCaller,
    path: string,
    accept: string,
    { untilBodyRead = false } = {},
  ): Promise<{ response: Response; done: () => void }> {
    const headers: Record<string, string> = {
      accept: `${accept}, application/problem+json`,
      authorization: `Bearer ${signer.sign({
        audience: SUBMISSION_PROOFS_AUDIENCE,
        tenantId: caller.tenantId,
        subject: `api-key:${caller.apiKeyId}`,
        scopes: [SUBMISSION_PROOFS_SCOPE],
      })}`,
    };
    if (caller.requestId !== undefined) headers['x-request-id'] = caller.requestId;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('timeout', 'TimeoutError')), timeoutMs);
    const done = () => clearTimeout(timer);
    const unavailable = (error: unknown) => {
      const code = networkCode(error);
      const timedOut = controller.signal.aborted || code === 'UND_ERR_CONNECT_TIMEOUT';
      return new SubmitterUnavailableError(timedOut ? 'timeout' : 'unreachable', code ? { code } : {});
    };
    try {
      const response = await fetch(`${base}${path}`, {
        headers,
        redirect: 'manual',
        signal: controller.signal,
      });
      if (!untilBodyRead) done();
      return { response, done };
    } catch (error) {
      done();
      throw unavailable(error);
    }
  }

  /** An answer that is neither the route's nor a 404/409: the submitter is not usable now. */
  const unusable = (upstreamStatus: number) =>
    upstreamStatus === 401 || upstreamStatus === 403
      ? new SubmitterUnavailableError('token-refused', { upstreamStatus })
      : new SubmitterUnavailableError(upstreamStatus >= 500 ? 'server-error' : 'contract', {
          upstreamStatus,
        });

  return {
    async fetch(caller, protocol, kind) {
      const expected = SUBMISSION_PROOFS[kind].contentType;
      const { response } = await call(caller, submissionProofPath(protocol, kind), expected);
      const drop = () => response.body?.cancel().catch(() => undefined);
      if (response.status === 200 && response.body) {
        const contentType = response.headers.get('content-type') ?? '';
        if (contentType.split(';')[0]?.trim().toLowerCase() !== expected) {
          await drop();
          throw new SubmitterUnavailableError('contract', { upstreamStatus: 200 });
        }
        const length = response.headers.get('content-length');
        return {
          status: 200,
          contentType,
          contentLength: length && /^\d{1,15}$/.test(length) ? Number(length) : undefined,
          body: Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
        };
      }
      await drop();
      if (response.status === 404) return { status: 404 };
      if (response.status === 409) {
        return { status: 409, retryAfterSeconds: retryAfterOf(response.headers.get('retry-after')) };
      }
      throw unusable(response.status);
    },

    async status(caller, protocol) {
      const { response, done } = await call(caller, submissionStatusPath(protocol), 'application/json', {
        untilBodyRead: true,
      });
      if (response.status === 200) {
        let body: unknown;
        try {
          body = await response.json();
        } catch (error) {
          // Cut off (the timeout, a reset), or not JSON.
          const name = (error as { name?: string }).name;
          throw error instanceof SyntaxError
            ? new SubmitterUnavailableError('contract', { upstreamStatus: 200 })
            : new SubmitterUnavailableError(
                name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'unreachable',
              );
        } finally {
          done();
        }
        const parsed = submissionStatusSchema.safeParse(body);
        // Another send's answer, or not the contract's shape: never passed on.
        if (!parsed.success || parsed.data.protocol !== protocol)
          throw new SubmitterUnavailableError('contract', { upstreamStatus: 200 });
        return { status: 200, body: parsed.data };
      }
      done();
      await response.body?.cancel().catch(() => undefined);
      if (response.status === 404) return { status: 404 };
      throw unusable(response.status);
    },
  };
}
