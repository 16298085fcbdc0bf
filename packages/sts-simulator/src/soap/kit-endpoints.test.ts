import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startSimulator } from '../../test-support/harness.ts';
import { KIT_DIR } from '../../test-support/kit-samples.ts';
import { SERVICES, SOAP_ENVELOPE_NS } from '../protocol/services.ts';
import { childElement, parseXmlTree } from './xml-tree.ts';

/**
 * Issue 10: every path of the official kit answers a SOAP 1.1 fault, never a bare HTTP 404, when
 * called wrongly — every service path of every endpoint list the kit carries (`endpoint*.txt`: the
 * `endpointServizi*.txt` of each category and delegate, `endpointOstetrica/Radiologo.txt`), each also
 * with the `/entrate/` and `/enti/` prefixes: another method, a GET without `?wsdl`, a body that is
 * not a SOAP 1.1 envelope, an unknown operation, a SOAPAction of another operation.
 */

function endpointLists(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return endpointLists(full);
    return /^endpoint.*\.txt$/.test(entry) ? [full] : [];
  });
}

const lists = endpointLists(path.join(KIT_DIR, 'kit730P_ver_20201218'));
const servicePaths = [
  ...new Set(
    lists.flatMap((file) =>
      [...readFileSync(file, 'latin1').matchAll(/https:\/\/[^/\s]+(\/\S+)/g)].map((match) =>
        match[1]!.replace(/^\/(entrate|enti)(?=\/)/, ''),
      ),
    ),
  ),
].sort();
const kitPaths = servicePaths.flatMap((servicePath) =>
  ['', '/entrate', '/enti'].map((prefix) => `${prefix}${servicePath}`),
);

let h: Harness;
beforeAll(async () => {
  h = await startSimulator({ schemaValidation: false });
});
afterAll(() => h.close());

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** The answer is a SOAP 1.1 fault (HTTP 500, SOAP 1.1 §6.2) with this faultcode; its faultstring. */
function faultOf(answer: Answer, faultcode = 'env:Client'): string {
  expect(answer.statusCode).toBe(500);
  expect(String(answer.headers['content-type'])).toMatch(/^text\/xml/);
  const envelope = parseXmlTree(answer.body);
  expect(`{${envelope.ns}}${envelope.local}`).toBe(`{${SOAP_ENVELOPE_NS}}Envelope`);
  const fault = childElement(childElement(envelope, 'Body', SOAP_ENVELOPE_NS)!, 'Fault', SOAP_ENVELOPE_NS)!;
  expect(childElement(fault, 'faultcode')?.text).toBe(faultcode);
  return childElement(fault, 'faultstring')!.text;
}

const inject = (options: {
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string;
}): Promise<Answer> => h.sim.app.inject({ ...options, method: options.method as 'POST' });

const envelope = (content: string) =>
  `<soapenv:Envelope xmlns:soapenv="${SOAP_ENVELOPE_NS}"><soapenv:Body>${content}</soapenv:Body></soapenv:Envelope>`;

describe('the kit endpoint lists', () => {
  it('name exactly the services the simulator serves (15 lists, 9 paths, with /entrate in the delegate one)', () => {
    expect(lists).toHaveLength(15);
    expect(servicePaths).toEqual(SERVICES.map((service) => service.path).sort());
    expect(kitPaths).toHaveLength(27);
  });
});

describe.each(kitPaths)('%s, called wrongly', (url) => {
  const service = SERVICES.find((candidate) => url.endsWith(candidate.path))!;
  const operation = service.operations[0]!;

  it('any method but POST (GET without ?wsdl too): a Client fault naming the method, with Allow: POST', async () => {
    const methods = h.sim.app.supportedMethods.filter((method) => !['POST', 'HEAD'].includes(method));
    expect(methods).toEqual(expect.arrayContaining(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'PURGE']));
    for (const method of methods) {
      const answer = await inject({ method, url });
      expect(faultOf(answer), method).toContain(`HTTP method ${method} is not allowed`);
      expect(answer.headers.allow).toBe('POST');
    }
    const withQuery = await inject({ method: 'GET', url: `${url}?service=x` });
    expect(faultOf(withQuery)).toContain('?wsdl');
    const head = await inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(500);
    expect((await inject({ method: 'GET', url: `${url}?wsdl` })).statusCode).toBe(200);
  });

  it('a body that is not a SOAP 1.1 envelope, whatever its Content-Type: a Client fault', async () => {
    for (const [contentType, payload] of [
      ['application/json', '{"pincode":"1"}'],
      ['application/json', '{not json'],
      ['text/plain', 'hello'],
      ['text/xml', ''],
      ['text/xml', '<a/>'],
      ['application/x-www-form-urlencoded', 'a=1'],
    ] as const) {
      faultOf(await inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload }));
    }
    const soap12 = envelope('').replace(SOAP_ENVELOPE_NS, 'http://www.w3.org/2003/05/soap-envelope');
    faultOf(
      await inject({ method: 'POST', url, headers: { 'content-type': 'text/xml' }, payload: soap12 }),
      'env:VersionMismatch',
    );
  });

  it('an unknown operation, or an empty Body: a Client fault', async () => {
    const unknown = await inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'text/xml' },
      payload: envelope(`<x:nonEsiste xmlns:x="${service.namespace}"/>`),
    });
    expect(faultOf(unknown)).toBe(`Cannot find dispatch method for {${service.namespace}}nonEsiste`);
    const empty = await inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'text/xml' },
      payload: envelope(''),
    });
    expect(faultOf(empty)).toBe('Cannot find dispatch method for an empty Body');
  });

  it('the SOAPAction of another operation: a Client fault; its own, an empty or none: dispatched', async () => {
    const payload = envelope(`<x:${operation.requestElement} xmlns:x="${service.namespace}"/>`);
    const wrong = await inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'text/xml', soapaction: '"urn:another.operation"' },
      payload,
    });
    expect(faultOf(wrong)).toBe(
      `Cannot find dispatch method for Request=[SOAPAction="urn:another.operation",Payload={${service.namespace}}${operation.requestElement}]`,
    );
    for (const soapaction of [`"${operation.soapAction}"`, '""', undefined]) {
      const answer = await inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'text/xml', ...(soapaction === undefined ? {} : { soapaction }) },
        payload,
      });
      // Dispatched: no credentials were sent, so authentication refuses it.
      expect(faultOf(answer)).toBe('Errore generico di autenticazione');
    }
  });
});

it('over real HTTP too: PUT, DELETE and a bare GET on a citizen-report path are SOAP faults, not 404s', async () => {
  const url = `${h.url}/entrate/Interrogazioni730pWeb/ReportSegnalazioni730pPort`;
  for (const method of ['PUT', 'DELETE', 'GET']) {
    const response = await fetch(url, { method });
    const answer = {
      statusCode: response.status,
      headers: { 'content-type': response.headers.get('content-type') },
      body: await response.text(),
    };
    expect(faultOf(answer)).toContain(`HTTP method ${method} is not allowed`);
  }
});
