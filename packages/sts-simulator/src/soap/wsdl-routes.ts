import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PATH_PREFIXES, SERVICES } from '../protocol/services.ts';

/**
 * `GET <service>?wsdl` serves the kit's WSDL with `soap:address location` pointing at the simulator
 * (as seen by the caller, or the configured public URL) and each `xsd:import schemaLocation` pointing
 * at `<service>?xsd=N`, which serves that XSD. The real STS serves neither (IT p.1); clients that
 * generate code from a URL need both.
 */

const ADDRESS = /(<soap:address\s+location=")[^"]*(")/;
const SCHEMA_LOCATION = /schemaLocation="([^"]+)"/g;

export function registerWsdlRoutes(
  app: FastifyInstance,
  options: { kitDir: string; publicUrl: string | undefined },
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
        const endpoint = `${baseUrl(request, options.publicUrl)}${route}`;
        if (keys.includes('wsdl')) {
          const rewritten = wsdl
            .replace(ADDRESS, `$1${endpoint}$2`)
            .replace(SCHEMA_LOCATION, (_match, location: string) => {
              const index = imports.indexOf(location) + 1;
              return `schemaLocation="${endpoint}?xsd=${index}"`;
            });
          return reply.type('text/xml; charset=utf-8').send(rewritten);
        }
        const xsd = Object.entries(query).find(([key]) => key.toLowerCase() === 'xsd')?.[1];
        if (xsd !== undefined) {
          const schema = schemas[Number(xsd) - 1];
          if (schema === undefined)
            return reply.code(404).type('text/plain').send(`No schema ${xsd} for this service.`);
          return reply.type('text/xml; charset=utf-8').send(schema);
        }
        return reply
          .code(405)
          .header('allow', 'POST')
          .type('text/plain; charset=utf-8')
          .send(`This is a SOAP 1.1 endpoint: POST requests to it. The WSDL is at ${endpoint}?wsdl`);
      });
    }
  }
}

function baseUrl(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  const forwarded = request.headers['x-forwarded-proto'];
  const protocol = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : request.protocol;
  return `${protocol}://${request.headers.host ?? `localhost`}`;
}
