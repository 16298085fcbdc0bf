import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ProblemError } from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { PATH_PREFIXES, SERVICES } from '../protocol/services.ts';
import { sendFault, wrongMethodFault } from './soap-routes.ts';
import { escapeXml } from './xml-writer.ts';

/**
 * `GET <service>?wsdl` serves the kit's WSDL with `soap:address location` pointing at the simulator
 * and each `xsd:import schemaLocation` pointing at `<service>?xsd=N`, which serves that XSD. The real
 * STS serves neither (IT p.1); clients that generate code from a URL need both. The address is the
 * configured public URL, or else the address the simulator listens on; never anything the request
 * says (`Host`, `X-Forwarded-*`), so a caller cannot make the simulator hand out a WSDL pointing
 * elsewhere.
 */

const ADDRESS = /(<soap:address\s+location=")[^"]*(")/;
const SCHEMA_LOCATION = /schemaLocation="([^"]+)"/g;

export function registerWsdlRoutes(
  app: FastifyInstance,
  options: { kitDir: string /** From `publicBaseUrl`. */; publicUrl: string | undefined },
): void {
  const tracciati = path.join(options.kitDir, 'kit730P_ver_20201218', 'TracciatiWS');
  for (const service of SERVICES) {
    const wsdlPath = path.join(tracciati, service.wsdlFile);
    const wsdl = readFileSync(wsdlPath, 'utf8');
    const imports = [...wsdl.matchAll(SCHEMA_LOCATION)].map((match) => match[1]!);
    const schemas = imports.map((location) =>
      readFileSync(path.join(path.dirname(wsdlPath), location), 'utf8'),
    );

    for (const prefix of PATH_PREFIXES) {
      const route = `${prefix}${service.path}`;
      app.get(route, (request, reply) => {
        const query = request.query as Record<string, string | undefined>;
        const keys = Object.keys(query).map((key) => key.toLowerCase());
        const endpoint = `${options.publicUrl ?? listeningUrl(app)}${route}`;
        if (keys.includes('wsdl')) {
          const rewritten = wsdl
            .replace(
              ADDRESS,
              (_match, before: string, after: string) => `${before}${escapeXml(endpoint)}${after}`,
            )
            .replace(SCHEMA_LOCATION, (_match, location: string) => {
              const index = imports.indexOf(location) + 1;
              return `schemaLocation="${escapeXml(`${endpoint}?xsd=${index}`)}"`;
            });
          return reply.type('text/xml; charset=utf-8').send(rewritten);
        }
        const xsd = Object.entries(query).find(([key]) => key.toLowerCase() === 'xsd')?.[1];
        if (xsd !== undefined) {
          const schema = schemas[Number(xsd) - 1];
          if (schema === undefined) {
            throw new ProblemError({
              status: 404,
              type: 'not-found',
              title: 'Not found',
              detail: `This service has ${schemas.length} schemas: ?xsd=1 to ?xsd=${schemas.length}.`,
              errors: [{ field: 'xsd', rule: 'range', message: `Ask for ?xsd=1 to ?xsd=${schemas.length}.` }],
            });
          }
          return reply.type('text/xml; charset=utf-8').send(schema);
        }
        // Neither the WSDL nor a schema: a SOAP endpoint called wrongly answers a SOAP fault (issue 10).
        return sendFault(reply.header('allow', 'POST'), wrongMethodFault(request.method, endpoint));
      });
    }
  }
}

/** Before `listen` (tests that only `inject`), the simulator's default address. */
const DEFAULT_BASE_URL = 'http://127.0.0.1:8790';

/** The configured public URL as a base: http(s), no query or fragment, no trailing slash. */
export function publicBaseUrl(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`publicUrl ${value}: must be an http: or https: URL`);
  }
  if (url.search || url.hash) throw new Error(`publicUrl ${value}: must have no query or fragment`);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function listeningUrl(app: FastifyInstance): string {
  const address = app.server.address();
  if (!address || typeof address === 'string') return DEFAULT_BASE_URL;
  // Listening on every interface: the loopback address is the one known to reach it.
  const host =
    address.address === '0.0.0.0' || address.address === '::'
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}`;
}
