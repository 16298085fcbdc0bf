import {
  createSanitelEncryptor,
  encryptPincode,
  encryptTaxCode,
  parseSanitelCertificate,
  type SanitelEncryptor,
} from '@sts/sts';
import { buildSimulator, type Simulator, type SimulatorOptions } from '../src/simulator.ts';
import { childElement, parseXmlTree, type XmlElement } from '../src/soap/xml-tree.ts';

/**
 * A simulator listening on an ephemeral port, and a client that talks to it over real HTTP. Used by
 * the tests and the benchmark; nothing here reaches into the simulator but its public API.
 */

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export interface SoapAnswer extends HttpAnswer {
  envelope: XmlElement;
  /** The first child of Body (the response element or the Fault). */
  body: XmlElement;
  fault: { code: string; message: string; reason: string | undefined } | undefined;
}

export interface Harness {
  sim: Simulator;
  url: string;
  encryptor: SanitelEncryptor;
  pin(pincode: string): string;
  cf(taxCode: string): string;
  post(
    path: string,
    body: string | Buffer,
    options?: {
      user?: string;
      password?: string;
      contentType?: string;
      soapAction?: string;
      headers?: Record<string, string>;
    },
  ): Promise<HttpAnswer>;
  soap(
    path: string,
    body: string | Buffer,
    options: { user: string; password: string; contentType?: string; soapAction?: string },
  ): Promise<SoapAnswer>;
  /** Calls `/__admin<path>` with the simulator's admin token, unless `headers` are given: then with exactly those. */
  admin(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; json: unknown; text: string }>;
  close(): Promise<void>;
}

export const basicAuth = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * The STS calendar is `relaxed` unless a test asks for `calendar: 'enforce'` (with a `clock`), so
 * tests that are not about deadlines do not depend on the day they run.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Harness> {
  const sim = await buildSimulator({
    processingDelayMs: 40,
    validationWorkers: 1,
    calendar: 'relaxed',
    ...options,
  });
  const address = await sim.app.listen({ host: '127.0.0.1', port: 0 });
  const encryptor = createSanitelEncryptor(parseSanitelCertificate(sim.certificatePem));

  const post: Harness['post'] = async (path, body, requestOptions = {}) => {
    const headers: Record<string, string> = {
      'content-type': requestOptions.contentType ?? 'text/xml;charset=UTF-8',
      soapaction: requestOptions.soapAction ?? '""',
      ...requestOptions.headers,
    };
    if (requestOptions.user !== undefined)
      headers.authorization = basicAuth(requestOptions.user, requestOptions.password ?? '');
    const response = await fetch(`${address}${path}`, { method: 'POST', headers, body });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };

  return {
    sim,
    url: address,
    encryptor,
    pin: (pincode) => encryptPincode(encryptor, pincode),
    cf: (taxCode) => encryptTaxCode(encryptor, taxCode).encrypted,
    post,
    async soap(path, body, requestOptions) {
      const answer = await post(path, body, requestOptions);
      const envelope = parseXmlTree(answer.text);
      const soapBody = childElement(envelope, 'Body')!;
      const first = soapBody.children[0]!;
      const fault =
        first.local === 'Fault'
          ? {
              code: childElement(first, 'faultcode')!.text,
              message: childElement(first, 'faultstring')!.text,
              reason: findText(first, 'reason'),
            }
          : undefined;
      return { ...answer, envelope, body: first, fault };
    },
    async admin(method, path, body, headers = { authorization: `Bearer ${sim.adminToken}` }) {
      const response = await fetch(`${address}/__admin${path}`, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text };
    },
    close: () => sim.app.close(),
  };
}

/** Depth-first: the first element with this local name. */
export function findElement(root: XmlElement, local: string): XmlElement | undefined {
  if (root.local === local) return root;
  for (const child of root.children) {
    const found = findElement(child, local);
    if (found) return found;
  }
  return undefined;
}

export function findText(root: XmlElement, local: string): string | undefined {
  return findElement(root, local)?.text.trim();
}

export function findAll(root: XmlElement, local: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (element: XmlElement) => {
    if (element.local === local) found.push(element);
    for (const child of element.children) walk(child);
  };
  walk(root);
  return found;
}
