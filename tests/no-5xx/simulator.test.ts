import { connect } from 'node:net';
import {
  basicAuth,
  type Harness,
  MEDICO,
  monthlyReportEnvelope,
  mtomRequest,
  ownerOf,
  PATH,
  PATIENTS,
  pointQueryEnvelope,
  precompilataXml,
  precompilataZip,
  receiptEnvelope,
  startSimulator,
  syncEnvelope,
  uploadEnvelope,
} from '@sts/sts-simulator/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  type FuzzRequest,
  fuzz,
  oddString,
  PARSER_CASES,
  rawExchange,
  requests,
  routesOf,
  violation,
} from './route-fuzz.ts';

/**
 * The STS simulator: its admin API (`/__admin/…`), the WSDLs and /health answer input errors with a
 * 4xx problem+json like the services. Its SOAP endpoints speak SOAP: a fault travels with HTTP 500
 * (SOAP 1.1 §6.2), so there the property is "a fault for bad input is a Client fault", never the
 * Server fault the simulator gives when it breaks.
 */
const ADMIN_RUNS = 400;
const SOAP_RUNS = 250;
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789';

const ADMIN_AUTH = [
  'bearer',
  'x-admin-token',
  'none',
  'wrong-token',
  'lowercase-bearer',
  'basic',
  'huge',
] as const;
type AdminAuth = (typeof ADMIN_AUTH)[number];
const SOAP_AUTH = ['medico', 'wrong-password', 'none', 'garbage', 'no-colon', 'unknown-user'] as const;
type SoapAuth = (typeof SOAP_AUTH)[number];

const isSoapCall = (route: { method: string; url: string }) =>
  route.method === 'POST' && !route.url.startsWith('/__admin');

describe('STS simulator: no 5xx from input', () => {
  let sim: Harness;
  let port: number;
  beforeAll(async () => {
    sim = await startSimulator({ adminToken: ADMIN_TOKEN, processingDelayMs: 10 });
    port = Number(new URL(sim.url).port);
  });
  afterAll(() => sim.close());

  const send = async (request: FuzzRequest, auth: Record<string, string>): Promise<Answer> => {
    const response = await sim.sim.app.inject({
      method: request.method as 'GET',
      url: request.url,
      headers: { ...request.headers, ...auth },
      ...(request.body !== undefined ? { payload: request.body } : {}),
    });
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  };

  it(`answers ${ADMIN_RUNS} generated requests on the admin API, the WSDLs and /health without a 5xx`, async () => {
    const soapPaths = new Set(
      routesOf(sim.sim.app)
        .filter(isSoapCall)
        .map((route) => route.url),
    );
    // A SOAP path answers every method (with a fault); of those only GET and HEAD (the WSDL) are
    // routes here, other methods come from the generator's own choice of method.
    const routes = routesOf(sim.sim.app).filter(
      (route) => !soapPaths.has(route.url) || route.method === 'GET' || route.method === 'HEAD',
    );
    expect(routes.filter((route) => route.url.startsWith('/__admin')).length).toBeGreaterThanOrEqual(15);
    const header = (auth: AdminAuth): Record<string, string> => {
      switch (auth) {
        case 'bearer':
          return { authorization: `Bearer ${ADMIN_TOKEN}` };
        case 'x-admin-token':
          return { 'x-admin-token': ADMIN_TOKEN };
        case 'none':
          return {};
        case 'wrong-token':
          return { authorization: `Bearer ${ADMIN_TOKEN.slice(1)}x` };
        case 'lowercase-bearer':
          return { authorization: `bearer ${ADMIN_TOKEN}` };
        case 'basic':
          return { authorization: basicAuth('admin', ADMIN_TOKEN) };
        case 'huge':
          return { authorization: `Bearer ${'t'.repeat(10_000)}` };
      }
    };
    const user = {
      username: 'FZZSIM80A01H501X',
      password: 'Fuzz.Sim.1',
      pincode: '1234567890',
      kind: 'professional',
      owner: { taxCode: 'FZZSIM80A01H501X' },
      delegators: [{ taxCode: PATIENTS[0] }],
      passwordExpiresAt: '2030-01-01T00:00:00Z',
    };
    await fuzz(
      `simulator admin API, WSDLs, /health (${routes.length} routes)`,
      requests({
        routes,
        known: { username: [MEDICO.user, user.username], protocol: ['123456789012345678'], id: ['1'] },
        templates: {
          'POST /__admin/users': [user, { ...user, kind: 'structure', owner: { office: '130-204-78909' } }],
          'POST /__admin/users/:username/password': [
            { password: 'New.Pw.1', expiresAt: '2030-01-01T00:00:00Z' },
          ],
          'POST /__admin/faults': [
            { kind: 'latency', latencyMs: 5, operation: 'insert', count: 1 },
            { kind: 'throttle', ratePerSecond: 1, status: 429, scope: 'global' },
            { kind: 'http-500', probability: 0.5, user: MEDICO.user },
          ],
          'PATCH /__admin/settings': [
            { decryption: { mode: 'sample', sampleEvery: 3 }, processingDelayMs: 10 },
          ],
        },
        queryNames: ['vatNumber', 'issueDate', 'device', 'number'],
        auth: fc.oneof(
          { weight: 6, arbitrary: fc.constant<AdminAuth>('bearer') },
          { weight: 3, arbitrary: fc.constantFrom(...ADMIN_AUTH) },
        ),
        // The 21 SOAP endpoints' GETs are one handler; the admin API is where the variety is.
        weigh: (route) => (route.url.startsWith('/__admin') ? 10 : 1),
        strangers: ['/internal/v1/credentials', '/__admin/', '/__admin/../health', '/__admin/users/'],
      }),
      (request) => send(request, header(request.auth)),
      {
        runs: ADMIN_RUNS,
        // Whatever lands on a SOAP endpoint is a SOAP call, whatever route it was made from, but for
        // the WSDL and its schemas (`?wsdl`, `?xsd=N`): called wrongly, an endpoint answers a SOAP
        // fault (issue 10), whatever the method.
        check: (request, answer) =>
          soapPaths.has(request.url.split('?')[0] ?? '') &&
          (request.method === 'POST' || !asksForWsdl(request.url))
            ? soapViolation(request, answer)
            : violation(request, answer),
      },
    );
  });

  it(`answers ${SOAP_RUNS} generated SOAP calls with a Client fault or a 4xx problem for bad input, never a Server fault`, async () => {
    // The admin fuzz ran first: the kit's users, passwords and settings as they were.
    sim.sim.reset();
    const routes = routesOf(sim.sim.app).filter(isSoapCall);
    expect(routes.length).toBeGreaterThanOrEqual(21);
    const owner = ownerOf(MEDICO, sim.cf(MEDICO.taxCode));
    const pincode = sim.pin(MEDICO.pincode);
    const id = { vatNumber: MEDICO.vatNumber, issueDate: '2026-11-02', device: 1, number: 'FZ-1' };
    const zip = precompilataZip(
      'fuzz.zip',
      precompilataXml(ownerOf(MEDICO, MEDICO.taxCode), [{ ...id, patient: sim.cf(PATIENTS[0]) }]),
    );
    const upload = mtomRequest(
      uploadEnvelope({
        fileName: 'fuzz.zip',
        pincode,
        owner: ownerOf(MEDICO, MEDICO.taxCode),
        document: 'cid:fuzz',
      }),
      [{ contentId: 'fuzz', bytes: zip }],
      { xop: true },
    );
    // Each message with the endpoint that takes it (under any of the three prefixes), or any other.
    const messages: { path: string; xml: string | Buffer; contentType?: string }[] = [
      { path: PATH.pointQuery, xml: pointQueryEnvelope({ pincode, owner, id }) },
      { path: PATH.monthlyReport, xml: monthlyReportEnvelope({ pincode, owner, yearMonth: '202611' }) },
      {
        path: PATH.singleDocument,
        xml: syncEnvelope('insert', { pincode, owner, document: { ...id, patient: sim.cf(PATIENTS[1]) } }),
      },
      {
        path: PATH.singleDocument,
        xml: syncEnvelope('cancel', { pincode, owner, document: { ...id, patient: null } }),
      },
      { path: PATH.outcome, xml: receiptEnvelope('EsitoInvii', { pincode, protocol: '123456789012345678' }) },
      {
        path: PATH.errorDetail,
        xml: receiptEnvelope('DettaglioErrori', { pincode, protocol: '123456789012345678' }),
      },
      {
        path: PATH.pdfReceipt,
        xml: receiptEnvelope('RicevutaPdf', { pincode, protocol: '123456789012345678' }),
      },
    ];
    const endpoint = (path: string) =>
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.constantFrom('', '/entrate', '/enti').map((prefix) => `${prefix}${path}`),
        },
        { weight: 1, arbitrary: fc.constantFrom(...routes.map((route) => route.url)) },
      );
    const soapMessage = fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .constantFrom(...messages)
          .chain((message) =>
            fc.record({ url: endpoint(message.path), xml: mutatedXml(String(message.xml)) }),
          ),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            endpoint(PATH.upload),
            fc.nat({ max: upload.body.length }),
            fc.uint8Array({ maxLength: 40 }),
            fc.boolean(),
          )
          .map(([url, at, bytes, keepType]) => ({
            url,
            xml: Buffer.concat([upload.body.subarray(0, at), Buffer.from(bytes), upload.body.subarray(at)]),
            contentType: keepType ? upload.contentType : 'multipart/related; boundary=nothing',
          })),
      },
      {
        weight: 1,
        arbitrary: endpoint(PATH.upload).map((url) => ({
          url,
          xml: upload.body,
          contentType: upload.contentType,
        })),
      },
    );
    const header = (auth: SoapAuth): Record<string, string> => {
      switch (auth) {
        case 'medico':
          return { authorization: basicAuth(MEDICO.user, MEDICO.password) };
        case 'wrong-password':
          return { authorization: basicAuth(MEDICO.user, 'not-it') };
        case 'none':
          return {};
        case 'garbage':
          return { authorization: 'Basic %%%' };
        case 'no-colon':
          return { authorization: `Basic ${Buffer.from('nocolon').toString('base64')}` };
        case 'unknown-user':
          return { authorization: basicAuth('NOBODY00A00A000A', 'x') };
      }
    };
    const calls = fc.record({
      body: soapMessage,
      contentType: fc.constantFrom(
        'text/xml; charset=utf-8',
        'text/xml; charset=utf-8',
        'text/xml; charset=utf-8',
        'text/xml',
        'application/soap+xml; charset=utf-8',
        'multipart/related; type="application/xop+xml"',
        'application/json',
        'application/octet-stream',
        '',
      ),
      auth: fc.oneof(
        { weight: 5, arbitrary: fc.constant<SoapAuth>('medico') },
        { weight: 2, arbitrary: fc.constantFrom(...SOAP_AUTH) },
      ),
      soapAction: fc.constantFrom('""', '', 'urn:whatever', '"\u00e9"'),
    });
    await fuzz(
      `simulator SOAP endpoints (${routes.length} routes; a 500 is a SOAP Client fault)`,
      calls.map(
        ({ body, contentType, auth, soapAction }): FuzzRequest<SoapAuth> => ({
          route: `POST ${body.url}`,
          method: 'POST',
          url: body.url,
          auth,
          headers: {
            'content-type': 'contentType' in body && body.contentType ? body.contentType : contentType,
            soapaction: soapAction,
          },
          body: body.xml,
        }),
      ),
      async (request) => {
        // Faults the admin fuzz may have injected (latency, 500s) are not the input's doing, nor a
        // lockout by the wrong passwords of earlier calls: the generated input meets a usable account.
        sim.sim.faults.clear();
        sim.sim.users.unlock(MEDICO.user);
        return send(request, header(request.auth));
      },
      { runs: SOAP_RUNS, check: soapViolation },
    );
  });

  it.each(PARSER_CASES)('answers $name, refused by the HTTP parser, with a 4xx problem', async ({ raw }) => {
    for (const path of ['/__admin/settings', '/DocumentoSpesa730pWeb/DocumentoSpesa730pPort']) {
      const answer = await rawExchange(connect(port, '127.0.0.1'), raw(path));
      expect(answer.statusCode).toBeGreaterThanOrEqual(400);
      expect(violation({ method: 'GET' }, answer)).toBeUndefined();
    }
  });
});

/** XML gone wrong: a value replaced, the text cut, bytes inserted, entities, SOAP 1.2, deep nesting. */
function mutatedXml(xml: string): fc.Arbitrary<string> {
  const values = [...xml.matchAll(/>([^<>]+)</g)];
  return fc.oneof(
    fc.constant(xml),
    fc
      .tuple(fc.nat({ max: Math.max(0, values.length - 1) }), oddString, fc.boolean())
      .map(([index, value, escaped]) => {
        const match = values[index];
        if (!match || match.index === undefined) return xml;
        const text = escaped ? value.replace(/&/g, '&amp;').replace(/</g, '&lt;') : value;
        return `${xml.slice(0, match.index + 1)}${text}${xml.slice(match.index + 1 + (match[1]?.length ?? 0))}`;
      }),
    fc.nat({ max: xml.length }).map((at) => xml.slice(0, at)),
    fc
      .tuple(fc.nat({ max: xml.length }), oddString)
      .map(([at, text]) => `${xml.slice(0, at)}${text}${xml.slice(at)}`),
    fc.constantFrom(
      `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${xml.replace(/^<\?xml[^>]*>/, '')}`,
      `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>`,
      xml.replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'),
      `${'<a>'.repeat(20_000)}${'</a>'.repeat(20_000)}`,
      xml.replace(/>([^<>]+)</, '>&undefined;<'),
      `\ufeff${xml}`,
      xml + xml,
      '',
      '<',
      '{"not":"xml"}',
    ),
  );
}

/** `?wsdl` or `?xsd=…` (any case), which the simulator answers as web resources. */
function asksForWsdl(url: string): boolean {
  const keys = [...new URLSearchParams(url.split('?')[1] ?? '').keys()].map((key) => key.toLowerCase());
  return keys.includes('wsdl') || keys.includes('xsd');
}

/** SOAP answers: 4xx as problem+json like everywhere; a 500 only as a SOAP Client fault. */
function soapViolation(request: { method: string }, answer: Answer): string | undefined {
  if (answer.statusCode < 500) return violation(request, answer);
  if (answer.statusCode !== 500) return `answered ${answer.statusCode}`;
  const type = String(answer.headers['content-type'] ?? '');
  if (!type.startsWith('text/xml')) return `a 500 of type "${type}", not a SOAP fault`;
  // HEAD: the GET's answer without its body.
  if (request.method === 'HEAD') return answer.body === '' ? undefined : 'a HEAD answered with a body';
  const code = /<faultcode>([^<]*)<\/faultcode>/.exec(answer.body)?.[1];
  if (!code) return 'a 500 without a faultcode';
  if (!/:(Client|VersionMismatch)$/.test(code)) return `a ${code} fault for input`;
  return undefined;
}
