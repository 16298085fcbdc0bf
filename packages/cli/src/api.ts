import type { Connection } from './config.ts';
import { ApiError } from './errors.ts';

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A download: the body as bytes, with its headers. */
export interface Download {
  status: number;
  bytes: Buffer;
  headers: Headers;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** A JSON value, or a string sent as is with `contentType`. */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Statuses answered rather than thrown (default: 2xx only). */
  accept?: (status: number) => boolean;
  /** Retries of answers that ask for one (429, 503, 409 in flight) and of network errors. */
  retries?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Seconds of a `Retry-After`, at most a minute; 1 s when absent. */
function retryAfterMs(headers: Headers): number {
  const seconds = Number(headers.get('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 1000;
}

/** A client of the gateway's public API: Bearer key, JSON in and out, problem+json as ApiError. */
export function createApi(connection: Connection) {
  async function request<T = any>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiAnswer<T>> {
    const answer = await send(method, path, options, false);
    return { status: answer.status, body: answer.body as T, headers: answer.headers };
  }

  /** A GET whose answer is a file (a PDF, a CSV): its bytes; an error answer is thrown as ApiError. */
  async function download(path: string, options: RequestOptions = {}): Promise<Download> {
    const answer = await send(
      'GET',
      path,
      { ...options, headers: { accept: '*/*', ...options.headers } },
      true,
    );
    return { status: answer.status, bytes: answer.body as Buffer, headers: answer.headers };
  }

  async function send(
    method: string,
    path: string,
    options: RequestOptions,
    binary: boolean,
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    const url = new URL(`${connection.url}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      authorization: `Bearer ${connection.apiKey}`,
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
      ...options.headers,
    };
    const retries = options.retries ?? 0;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { method, headers, body });
      } catch (error) {
        if (attempt < retries) {
          await sleep(500 * 2 ** Math.min(attempt, 4));
          continue;
        }
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(
          `the gateway at ${connection.url} cannot be reached (${cause?.code ?? cause?.message ?? (error as Error).message})`,
        );
      }
      const bytes = Buffer.from(await response.arrayBuffer());
      if (binary && response.status >= 200 && response.status < 300)
        return { status: response.status, body: bytes, headers: response.headers };
      const text = bytes.toString('utf8');
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {}
      const retryable =
        response.status === 429 ||
        response.status === 503 ||
        (response.status === 409 &&
          (parsed as { type?: string })?.type?.endsWith('idempotency-key-in-flight'));
      if (retryable && attempt < retries) {
        await sleep(retryAfterMs(response.headers));
        continue;
      }
      const accepted = options.accept ?? ((status: number) => status >= 200 && status < 300);
      if (!accepted(response.status)) throw new ApiError(response.status, parsed);
      return { status: response.status, body: parsed, headers: response.headers };
    }
  }
  return { request, download, url: connection.url };
}

export type Api = ReturnType<typeof createApi>;
