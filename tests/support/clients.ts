import { expect } from 'vitest';
import type { Stack } from './stack.ts';

/**
 * HTTP clients shared by the end-to-end tests: the gateway's public API with a tenant's key, the
 * simulator's admin API, and a credential created (and tested) through the gateway. The stack and
 * the key are usually assigned in `beforeAll`, after the helpers are defined: every value may be
 * given as a function, read at each call.
 */
type Lazy<T> = T | (() => T);
const read = <T>(value: Lazy<T>): T => (typeof value === 'function' ? (value as () => T)() : value);

export interface Answer {
  status: number;
  ok: boolean;
  /** The body parsed as JSON; undefined if empty or not JSON. */
  json: any;
  text: string;
  headers: Headers;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: response.status, ok: response.ok, json, text, headers: response.headers };
}

export type GatewayApi = (
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
) => Promise<Answer>;

/**
 * The gateway's public API as the tenant of `key`: a string body is sent as it is (with
 * `contentType`), any other body as JSON.
 */
export function gatewayApi(baseUrl: Lazy<string>, key: Lazy<string>): GatewayApi {
  return async (method, path, body, contentType = 'application/json') =>
    answer(
      await fetch(`${read(baseUrl)}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${read(key)}`,
          ...(body !== undefined ? { 'content-type': contentType } : {}),
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      }),
    );
}

export type SimulatorAdmin = (method: string, path: string, body?: unknown) => Promise<Answer>;

/** The simulator's admin API (`/__admin<path>`) with the stack's admin token; a body is sent as JSON. */
export function simulatorAdmin(stack: Lazy<Stack>): SimulatorAdmin {
  return async (method, path, body) => {
    const { urls, adminToken } = read(stack);
    return answer(
      await fetch(`${urls.simulator}/__admin${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      }),
    );
  };
}

export interface CredentialOptions {
  /** The simulator's account. */
  doctor: { username: string; password: string; pincode: string };
  vatNumber: string;
  sendingMode: string;
  /** `Dr <sendingMode>` unless told. */
  label?: string;
  /** Further fields of the request (pacing …). */
  extra?: Record<string, unknown>;
}

/** `POST /v1/credentials?test=true` of a basic test credential; answers the gateway's answer as it is. */
export function postCredential(api: GatewayApi, options: CredentialOptions): Promise<Answer> {
  const { doctor, vatNumber, sendingMode, label = `Dr ${sendingMode}`, extra = {} } = options;
  return api('POST', '/v1/credentials?test=true', {
    label,
    environment: 'test',
    kind: 'basic',
    user: doctor.username,
    password: doctor.password,
    pincode: doctor.pincode,
    owner: { taxCode: doctor.username },
    vatNumbers: [vatNumber],
    sendingMode,
    ...extra,
  });
}

/** Creates a test credential, expects it created (201) and its test `valid`; answers its id. */
export async function createCredential(api: GatewayApi, options: CredentialOptions): Promise<string> {
  const created = await postCredential(api, options);
  expect(created.status, created.text).toBe(201);
  expect(created.json.test.outcome, created.text).toBe('valid');
  return created.json.credential.id as string;
}
