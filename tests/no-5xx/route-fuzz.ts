import { METHODS } from 'node:http';
import fc from 'fast-check';

/**
 * Property-based requests against every route an app has (issue 9: no 5xx from input). Routes are
 * read from the app itself (`printRoutes`); requests mix the route's own method with others, path
 * parameters that are valid, long, unicode, NUL or broken percent-escapes, odd query strings, bodies
 * of the wrong shape (templates with fields replaced, dropped or added), deep nesting, huge strings,
 * non-JSON, odd content types, and the caller's choice of authentication. The property: never a 5xx,
 * and every error is application/problem+json with `type`, `title` and `status`.
 */

export interface Route {
  method: string;
  /** fastify's pattern: `/internal/v1/credentials/:id/leases`. */
  url: string;
}

/** Every route of a ready app, from `printRoutes({ commonPrefix: false })`. */
export function routesOf(app: { printRoutes(options: { commonPrefix: false }): string }): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(match[2] ?? '');
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url: stack.join('') });
  }
  return routes;
}

/** A request, with authentication named (`auth`) and made fresh when it is sent. */
export interface FuzzRequest<Auth extends string = string> {
  route: string;
  method: string;
  url: string;
  auth: Auth;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

// ---- values -----------------------------------------------------------------------------------

/** Percent-encodes a path segment, lone surrogates included (as the bytes of U+FFFD). */
export function encodeSegment(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return [...Buffer.from(value, 'utf8')].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
  }
}

/** One character that breaks naive code: NUL (Postgres refuses it), controls, lone surrogates, bidi, BOM. */
const troublemaker = fc.constantFrom(
  '\u0000',
  '\u0000',
  '\n',
  '\r',
  '\t',
  '\u0007',
  '\u0085',
  '\ud800',
  '\udfff',
  '\u202e',
  '\ufeff',
  '\u2028',
);

/** `value` with a troublemaker put in, at its start, its end or inside. */
export const poisoned = (value: string): fc.Arbitrary<string> =>
  fc
    .tuple(troublemaker, fc.nat({ max: value.length }))
    .map(([bad, at]) => `${value.slice(0, at)}${bad}${value.slice(at)}`);

/** Strings with the characters that break naive code: NUL, lone surrogates, bidi, BOM, C1, combining. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }).chain(poisoned) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      'a\u0000b',
      'line\nbreak',
      '\t',
      '\u001b[2J',
      '\u007f',
      '\u0085',
      '\ud800',
      'x\udfff',
      '\u202eevil',
      '\ufeff',
      '\u2028',
      'e\u0301',
      '😀',
      '𝕏',
      'null',
      'undefined',
      '0',
      '-1',
      '1e309',
      'NaN',
      'true',
      '0000-01-01',
      '+275760-09-13',
      '9999-12-31T23:59:59Z',
      '1970-01-01',
      "'; DROP TABLE credentials; --",
      '%00',
      '$' + '{jndi:ldap://x}',
      '<script>',
      '../../etc/passwd',
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 200, max: 300_000 }).map((n) => 'x'.repeat(n)) },
);

const oddKey: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '',
    '\u0000',
    'toString',
    'hasOwnProperty',
    'a.b',
    '$ref',
  ),
);

/** Any JSON value, with odd strings and keys, a few levels deep. */
export const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -0, 2 ** 53, -(2 ** 31), 1e308, 0.1),
    oddString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(oddKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/**
 * A template (a body a route takes) with some fields replaced by any JSON, some dropped, some keys
 * added; nested templates are mutated the same way.
 */
export function mutated(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const leaves = stringLeaves(template);
  const broken = fieldsBroken(template);
  // Half the time the template stays valid but for one string, poisoned: the request reaches as
  // deep as a valid one, with a NUL or a control character where the code must refuse it.
  return leaves.length
    ? fc.oneof(
        broken,
        fc
          .constantFrom(...leaves)
          .chain((path) =>
            poisoned(String(valueAt(template, path))).map((value) => withValueAt(template, path, value)),
          ),
      )
    : broken;
}

type Path = (string | number)[];

function stringLeaves(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => stringLeaves(item, [...path, index]));
  if (isPlainObject(value))
    return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  return [];
}

const valueAt = (value: unknown, path: Path): unknown =>
  path.reduce<unknown>((current, key) => (current as Record<string | number, unknown>)[key], value);

function withValueAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path as [string | number, ...Path];
  if (Array.isArray(value))
    return value.map((item, index) => (index === key ? withValueAt(item, rest, replacement) : item));
  const entries = Object.entries(value as Record<string, unknown>).map(([k, item]) =>
    k === key ? [k, withValueAt(item, rest, replacement)] : [k, item],
  );
  return Object.fromEntries(entries);
}

function fieldsBroken(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(template);
  const nested = keys.filter((key) => isPlainObject(template[key]));
  return fc
    .record({
      replaced: fc.array(fc.tuple(fc.constantFrom(...keys), fc.oneof(anyJson, oddString)), { maxLength: 3 }),
      dropped: fc.subarray(keys, { maxLength: Math.min(2, keys.length) }),
      added: fc.array(fc.tuple(oddKey, anyJson), { maxLength: 2 }),
      inner: nested.length
        ? fc.option(
            fc
              .constantFrom(...nested)
              .chain((key) =>
                fieldsBroken(template[key] as Record<string, unknown>).map((value) => [key, value]),
              ),
          )
        : fc.constant(null),
    })
    .map(({ replaced, dropped, added, inner }) => {
      // Object.fromEntries defines own properties: a "__proto__" key stays a key.
      const entries = new Map<string, unknown>(Object.entries(template));
      if (inner) entries.set(inner[0] as string, inner[1]);
      for (const [key, value] of replaced) entries.set(key, value);
      for (const key of dropped) entries.delete(key);
      for (const [key, value] of added) entries.set(key, value);
      return Object.fromEntries(entries);
    });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON'];
const CONTENT_TYPES = [
  ...JSON_TYPES,
  'application/json; charset=latin1',
  'application/json;',
  'application/merge-patch+json',
  'application/problem+json',
  'text/plain',
  'text/xml; charset=utf-8',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=zz',
  'multipart/related; type="application/xop+xml"; boundary=zz',
  'application/octet-stream',
  'application/*',
  '*/*',
  'invalid',
  ';;;',
  'application/json, text/plain',
];

export interface Body {
  contentType?: string;
  payload?: string | Buffer;
}

/** Bodies: mostly the route's own shapes gone wrong, then any JSON, deep nesting, non-JSON, none. */
export function bodies(templates: Record<string, unknown>[], onlyShaped = false): fc.Arbitrary<Body> {
  const shaped = templates.length
    ? fc.oneof(fc.constantFrom(...templates), ...templates.map((template) => mutated(template)))
    : anyJson;
  const json = (value: fc.Arbitrary<unknown>) =>
    fc.tuple(value, fc.constantFrom(...JSON_TYPES)).map(([v, contentType]) => ({
      contentType,
      payload: JSON.stringify(v) ?? 'null',
    }));
  const nested = fc.tuple(fc.integer({ min: 10, max: 50_000 }), fc.boolean()).map(([depth, arrays]) => ({
    contentType: 'application/json',
    payload: arrays
      ? `${'['.repeat(depth)}${']'.repeat(depth)}`
      : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  }));
  const notJson = fc.tuple(
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.constantFrom(
        '{',
        '"',
        '{"a":1}{"b":2}',
        '[1,]',
        'NaN',
        '{"a":1e999999}',
        '\ufeff{}',
        '{"a":"\\u0000"}',
        '{"a":"\\ud800"}',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{"x":1}}}',
        '<?xml version="1.0"?><a/>',
        'a=1&b=2',
        Buffer.from([0xc0, 0xaf, 0xff, 0xfe, 0xed, 0xa0, 0x80]),
      ),
    ),
    fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
  );
  if (onlyShaped) return json(shaped);
  return fc.oneof(
    { weight: 6, arbitrary: json(shaped) },
    { weight: 2, arbitrary: json(anyJson) },
    { weight: 1, arbitrary: nested },
    {
      weight: 2,
      arbitrary: notJson.map(([payload, contentType]) => ({
        payload,
        ...(contentType ? { contentType } : {}),
      })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(anyJson, fc.constantFrom(...CONTENT_TYPES))
        .map(([v, contentType]) => ({ contentType, payload: JSON.stringify(v) ?? '' })),
    },
    { weight: 2, arbitrary: fc.constant({}) },
  );
}

/** A path parameter: one that exists, a well-formed one, or trouble. */
export function pathParameter(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 10, arbitrary: known.length ? fc.constantFrom(...known).map(encodeSegment) : fc.uuid() },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: oddString.filter((s) => s.length < 400).map(encodeSegment) },
    { weight: 1, arbitrary: fc.integer({ min: 60, max: 5_000 }).map((n) => 'a'.repeat(n)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 90, maxLength: 300 }).map(encodeSegment) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '%00',
        'a%00b',
        '%',
        '%zz',
        '%G1',
        '%%',
        '%ed%a0%80',
        '%c3%28',
        '%ff%fe',
        '%2e%2e',
        '..',
        '%2F',
        'a%2fb',
        '%u0041',
        '%E2%80%AE',
        'é',
        ';',
        '*',
        '%20',
        '%0d%0a',
      ),
    },
  );
}

/** Query strings: none, well-formed with odd values, the route's own names, or broken. */
export function queries(names: readonly string[]): fc.Arbitrary<string> {
  const key = names.length ? fc.oneof(fc.constantFrom(...names), oddKey) : oddKey;
  const value = fc.oneof(
    oddString.filter((s) => s.length < 2_000),
    fc.constantFrom('true', 'false', '', '0', '1', '-1', '201', '50', '1e3', '99999999999999999999', 'valid'),
    fc.uuid(),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    {
      weight: 4,
      arbitrary: fc
        .array(fc.tuple(key, value), { minLength: 1, maxLength: 4 })
        .map((pairs) => `?${pairs.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join('&')}`),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '?',
        '?%zz',
        '?a=%',
        '?&&&',
        '?a=1&a=2&a=3',
        '?limit=0',
        '?limit=abc',
        '?after=%00',
        '?test=maybe',
        '?test=true',
        '?__proto__[x]=1',
        '?constructor[prototype][x]=1',
        `?q=${'q'.repeat(6_000)}`,
        '?a=%ed%a0%80',
        '?a;b=c',
        '?#fragment',
      ),
    },
  );
}

/** Request headers beside authentication: ids, reasons, odd content negotiation. */
/** `arbitrary` in one request out of `every`, nothing otherwise. */
const sometimes = (arbitrary: fc.Arbitrary<string>, every: number) =>
  fc.oneof({ weight: every - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
const extraHeaders: fc.Arbitrary<Record<string, string>> = fc
  .record({
    'x-request-id': sometimes(
      fc.oneof(
        fc.uuid(),
        oddString.filter((s) => s.length < 300),
      ),
      2,
    ),
    'x-audit-reason': sometimes(
      fc.oneof(
        fc.constantFrom('ticket 42', 'password changed on the portal'),
        oddString.filter((s) => s.length < 1_000),
      ),
      4,
    ),
    accept: sometimes(
      fc.constantFrom('*/*', 'application/json', 'text/html', 'application/xml', '', 'garbage;;;'),
      2,
    ),
    'accept-encoding': sometimes(fc.constantFrom('gzip', 'br', 'identity', 'x-unknown'), 2),
    'content-encoding': sometimes(fc.constantFrom('gzip', 'deflate', 'x-unknown'), 6),
    'accept-version': sometimes(fc.constantFrom('1.x', '*', 'garbage'), 6),
    'x-forwarded-for': sometimes(fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1'), 6),
  })
  // A header value cannot hold a line break (the request would not be one request any more).
  .map((headers) =>
    Object.fromEntries(
      Object.entries(headers)
        .filter((entry): entry is [string, string] => entry[1] !== undefined)
        .map(([name, value]) => [name, value.replace(/[\r\n]/g, ' ')]),
    ),
  );

export interface RequestSpace<Auth extends string> {
  routes: Route[];
  /** Existing values per path parameter name (`id` → credential ids…). */
  known?: Record<string, readonly string[]>;
  /** Bodies the routes take, as templates to break, per route pattern (`*` for all). */
  templates?: Record<string, Record<string, unknown>[]>;
  /** Query parameter names worth trying. */
  queryNames?: readonly string[];
  auth: fc.Arbitrary<Auth>;
  /**
   * Deep: only the routes' own methods and paths, known path parameters, and JSON bodies made from
   * the templates, so that most requests get past routing and authentication into the handlers.
   */
  deep?: boolean;
  /** How often a route is picked relative to the others (default 1 each). */
  weigh?: (route: Route) => number;
  /** Paths outside the routes, for 404s (other services' routes…). */
  strangers?: readonly string[];
}

const OTHER_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'SEARCH',
];

/** Requests over `space`: mostly its routes with their own method, sometimes another. */
export function requests<Auth extends string>(space: RequestSpace<Auth>): fc.Arbitrary<FuzzRequest<Auth>> {
  const deep = space.deep ?? false;
  const route = fc.oneof(
    {
      weight: deep ? 1 : 12,
      arbitrary: space.weigh
        ? fc.oneof(
            ...space.routes.map((route) => ({
              weight: space.weigh?.(route) ?? 1,
              arbitrary: fc.constant(route),
            })),
          )
        : fc.constantFrom(...space.routes),
    },
    {
      weight: deep ? 0 : 1,
      arbitrary: fc
        .tuple(
          fc.oneof(
            fc.constantFrom('/', '//', '/health/', '/%2e%2e/health', '/__admin', ...(space.strangers ?? [])),
            fc
              .array(
                oddString.filter((s) => s.length < 50),
                { minLength: 1, maxLength: 4 },
              )
              .map((parts) => `/${parts.map(encodeSegment).join('/')}`),
          ),
          fc.constantFrom(...OTHER_METHODS),
        )
        .map(([url, method]) => ({ url, method })),
    },
  );
  const bodyCache = new Map<string, fc.Arbitrary<Body>>();
  const bodiesOf = (route: { method: string; url: string }) => {
    const key = `${route.method} ${route.url}`;
    let arbitrary = bodyCache.get(key);
    if (!arbitrary) {
      const all = bodies([...(space.templates?.[key] ?? []), ...(space.templates?.['*'] ?? [])], deep);
      arbitrary = ['GET', 'HEAD', 'DELETE'].includes(route.method)
        ? fc.oneof({ weight: 4, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: all })
        : all;
      bodyCache.set(key, arbitrary);
    }
    return arbitrary;
  };
  return fc
    .record({
      route,
      otherMethod: fc.oneof(
        { weight: 5, arbitrary: fc.constant(null) },
        {
          weight: deep ? 0 : 1,
          arbitrary: fc.constantFrom(...OTHER_METHODS.filter((m) => METHODS.includes(m))),
        },
      ),
      query: deep ? fc.constant('') : queries(space.queryNames ?? []),
      trailing: fc.oneof(
        { weight: 8, arbitrary: fc.constant('') },
        { weight: deep ? 0 : 1, arbitrary: fc.constantFrom('/', '//x', '/%00') },
      ),
      auth: space.auth,
      headers: extraHeaders,
    })
    .chain((draft) => {
      const names = [...draft.route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] ?? '');
      return fc
        .tuple(
          fc.tuple(
            ...names.map((name) => {
              const known = space.known?.[name] ?? [];
              return deep && known.length
                ? fc.oneof(
                    { weight: 9, arbitrary: fc.constantFrom(...known) },
                    { weight: 1, arbitrary: pathParameter(known) },
                  )
                : pathParameter(known);
            }),
          ),
          bodiesOf(draft.route),
        )
        .map(([values, body]): FuzzRequest<Auth> => {
          let path = draft.route.url;
          names.forEach((name, index) => {
            path = path.replace(`:${name}`, values[index] ?? '');
          });
          const method = draft.otherMethod ?? draft.route.method;
          return {
            route: `${draft.route.method} ${draft.route.url}`,
            method,
            url: `${path}${draft.trailing}${draft.query}`,
            auth: draft.auth,
            headers: {
              ...draft.headers,
              ...(body.contentType !== undefined ? { 'content-type': body.contentType } : {}),
            },
            ...(body.payload !== undefined && method !== 'GET' && method !== 'HEAD'
              ? { body: body.payload }
              : {}),
          };
        });
    });
}

// ---- the property -------------------------------------------------------------------------------

/** Why an answer breaks the rule, or undefined when it keeps it. */
export function violation(request: { method: string }, answer: Answer): string | undefined {
  if (answer.statusCode >= 500) return `answered ${answer.statusCode}`;
  if (answer.statusCode < 400) return undefined;
  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith('application/problem+json')) return `a ${answer.statusCode} of type "${type}"`;
  if (request.method === 'HEAD') return undefined;
  let problem: { type?: unknown; title?: unknown; status?: unknown };
  try {
    problem = JSON.parse(answer.body) as typeof problem;
  } catch {
    return `a ${answer.statusCode} whose body is not JSON`;
  }
  if (typeof problem.type !== 'string' || typeof problem.title !== 'string')
    return `a ${answer.statusCode} problem without type or title`;
  if (problem.status !== answer.statusCode)
    return `a problem whose status ${String(problem.status)} is not the answer's`;
  return undefined;
}

export interface FuzzReport {
  name: string;
  requests: number;
  seconds: number;
  statuses: Record<string, number>;
}

const describeRequest = (request: FuzzRequest) => {
  const body =
    request.body === undefined
      ? ''
      : ` body(${Buffer.byteLength(request.body)} bytes): ${String(request.body).slice(0, 300)}`;
  return `${request.method} ${request.url.slice(0, 300)} [${request.route}] auth=${request.auth} headers=${JSON.stringify(request.headers).slice(0, 300)}${body}`;
};

/**
 * Sends `runs` requests and checks each answer (`check`, by default `violation`). Fails with the
 * smallest request fast-check finds; `FUZZ_SEED` replays a run. Prints one summary line.
 */
export async function fuzz<Auth extends string>(
  name: string,
  arbitrary: fc.Arbitrary<FuzzRequest<Auth>>,
  send: (request: FuzzRequest<Auth>) => Promise<Answer>,
  options: {
    runs: number;
    check?: (request: FuzzRequest<Auth>, answer: Answer) => string | undefined;
  },
): Promise<FuzzReport> {
  const statuses: Record<string, number> = {};
  let requests = 0;
  const started = performance.now();
  const check = options.check ?? violation;
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (request) => {
      if (process.env.FUZZ_VERBOSE) process.stdout.write(`→ ${describeRequest(request).slice(0, 400)}\n`);
      const sent = performance.now();
      const answer = await send(request);
      if (process.env.FUZZ_VERBOSE)
        process.stdout.write(
          `← ${answer.statusCode} in ${(performance.now() - sent).toFixed(0)} ms ${answer.body.slice(0, 200)}\n`,
        );
      requests += 1;
      statuses[answer.statusCode] = (statuses[answer.statusCode] ?? 0) + 1;
      const wrong = check(request, answer);
      if (wrong) {
        throw new Error(`${wrong}: ${describeRequest(request)}\n→ ${answer.body.slice(0, 500)}`);
      }
    }),
    { numRuns: options.runs, ...(seed !== undefined ? { seed } : {}) },
  );
  const report = { name, requests, seconds: (performance.now() - started) / 1000, statuses };
  process.stdout.write(
    `[no-5xx] ${name}: ${report.requests} requests in ${report.seconds.toFixed(1)} s, every answer within the rule; statuses ${JSON.stringify(statuses)}\n`,
  );
  return report;
}

// ---- what inject cannot send ----------------------------------------------------------------------

/**
 * Requests Node's HTTP parser refuses before fastify sees them (so `inject` cannot make them): each
 * must come back as a 4xx problem+json written on the socket, never a bare close or a 5xx.
 */
export const PARSER_CASES: { name: string; raw: (path: string) => string }[] = [
  {
    name: 'headers over 16 KiB',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
  },
  {
    name: 'many headers',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(3_000)}\r\n`,
  },
  {
    name: 'a NUL in a header value',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-Audit-Reason: a\u0000b\r\n\r\n`,
  },
  {
    name: 'a NUL in the authorization',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u0000\r\n\r\n`,
  },
  {
    name: 'a control character in a header name',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-\u0001: a\r\n\r\n`,
  },
  {
    name: 'a bare LF in a header value',
    raw: (path) => `GET ${path} HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n`,
  },
  { name: 'an unknown method', raw: (path) => `FROB ${path} HTTP/1.1\r\nHost: x\r\n\r\n` },
  { name: 'HTTP/3.7', raw: (path) => `GET ${path} HTTP/3.7\r\nHost: x\r\n\r\n` },
  {
    name: 'a content-length that is no number',
    raw: (path) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n`,
  },
  {
    name: 'two content-lengths',
    raw: (path) => `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`,
  },
  {
    name: 'content-length and chunked',
    raw: (path) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
  },
  {
    name: 'a bad chunk size',
    raw: (path) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
  },
  { name: 'a space in the target', raw: (path) => `GET ${path}/a b HTTP/1.1\r\nHost: x\r\n\r\n` },
  { name: 'a NUL in the target', raw: (path) => `GET ${path}\u0000 HTTP/1.1\r\nHost: x\r\n\r\n` },
  { name: 'garbage', raw: () => '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\r\n\r\n' },
];

/** Writes raw bytes on `socket` and reads the answer until the server closes the connection. */
export function rawExchange(
  socket: import('node:net').Socket,
  raw: string,
): Promise<Answer & { statusLine: string }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while we still write (it answered early): what it wrote counts.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...headerLines] = text.slice(0, split).split('\r\n');
      resolve({
        statusLine,
        statusCode: Number(statusLine.split(' ')[1]),
        headers: Object.fromEntries(
          headerLines.map((line) => [
            line.slice(0, line.indexOf(':')).toLowerCase(),
            line.slice(line.indexOf(':') + 1).trim(),
          ]),
        ),
        body: text.slice(split + 4),
      });
    });
    socket.end(Buffer.from(raw, 'latin1'));
  });
}
