import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PRECOMPILATA_XSD, SERVICES, type ServiceId, SOAP_ENVELOPE_NS } from '../protocol/services.ts';
import type { SchemaBundle, ValidationReply } from './xsd-worker.ts';

/**
 * Validation of requests (and, in tests, of our own responses) against the kit's XSDs, on a small pool
 * of threads running libxml2. A SOAP message is validated whole: a minimal SOAP 1.1 envelope schema
 * whose Body holds any element *strictly* declared by the service's XSD, so a wrong element, order,
 * namespace or value in the payload fails exactly as it would against the XSD alone.
 */

export interface SchemaProblem {
  line: number | undefined;
  /** libxml2's own wording. */
  message: string;
}

export interface SchemaValidation {
  valid: boolean;
  problems: SchemaProblem[];
}

export type SchemaId = `soap:${ServiceId}` | 'precompilata';

export interface SchemaValidator {
  validate(schema: SchemaId, xml: string): Promise<SchemaValidation>;
  close(): Promise<void>;
}

const ENVELOPE_XSD = `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="${SOAP_ENVELOPE_NS}"
  targetNamespace="${SOAP_ENVELOPE_NS}" elementFormDefault="qualified">
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="tns:Header" minOccurs="0"/>
        <xs:element ref="tns:Body"/>
      </xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="Header">
    <xs:complexType>
      <xs:sequence>
        <xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="Body">
    <xs:complexType>
      <xs:sequence>
        <xs:any namespace="##any" processContents="strict" minOccurs="1" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
</xs:schema>
`;

/** Reads the schema files once: one bundle per service (envelope + service XSD) and the batch file's. */
export function loadSchemaBundles(kitDir: string): Record<SchemaId, SchemaBundle> {
  const tracciati = path.join(kitDir, 'kit730P_ver_20201218', 'TracciatiWS');
  const bundles = {} as Record<SchemaId, SchemaBundle>;
  for (const service of SERVICES) {
    const xsdName = path.basename(service.xsdFile);
    const driver = `request-${service.id}.xsd`;
    bundles[`soap:${service.id}`] = {
      main: driver,
      files: [
        {
          fileName: driver,
          contents: `<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="${SOAP_ENVELOPE_NS}" schemaLocation="soap-envelope.xsd"/>
  <xs:import namespace="${service.namespace}" schemaLocation="${xsdName}"/>
</xs:schema>
`,
        },
        { fileName: 'soap-envelope.xsd', contents: ENVELOPE_XSD },
        { fileName: xsdName, contents: readFileSync(path.join(tracciati, service.xsdFile), 'utf8') },
      ],
    };
  }
  const precompilata = path.basename(PRECOMPILATA_XSD);
  bundles.precompilata = {
    main: precompilata,
    files: [
      { fileName: precompilata, contents: readFileSync(path.join(tracciati, PRECOMPILATA_XSD), 'utf8') },
    ],
  };
  return bundles;
}

interface Pending {
  resolve: (result: SchemaValidation) => void;
  reject: (error: Error) => void;
}

interface PooledWorker {
  worker: Worker;
  inFlight: Map<number, Pending>;
  /** Set by the first of `error`/`exit`: Node emits both for a crashed thread, and it is replaced once. */
  dead: boolean;
}

const WORKER_URL = new URL('./xsd-worker.ts', import.meta.url);
const CLOSED = 'the schema validator is closed';

export function createSchemaValidator(options: {
  bundles: Record<SchemaId, SchemaBundle>;
  workers: number;
  /** The validation thread's script; tests put a stand-in here. */
  workerUrl?: URL;
}): SchemaValidator {
  const pool: PooledWorker[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): PooledWorker => {
    const entry: PooledWorker = {
      worker: new Worker(options.workerUrl ?? WORKER_URL, { workerData: { bundles: options.bundles } }),
      inFlight: new Map(),
      dead: false,
    };
    entry.worker.on('message', (reply: ValidationReply) => {
      const pending = entry.inFlight.get(reply.id);
      if (!pending) return;
      entry.inFlight.delete(reply.id);
      if (reply.error !== undefined) pending.reject(new Error(reply.error));
      else if (reply.valid) pending.resolve({ valid: true, problems: [] });
      else pending.resolve({ valid: false, problems: parseProblems(reply.lines ?? []) });
    });
    const retire = (error: Error) => {
      if (entry.dead) return;
      entry.dead = true;
      for (const pending of entry.inFlight.values()) pending.reject(error);
      entry.inFlight.clear();
      const index = pool.indexOf(entry);
      if (index >= 0) pool.splice(index, 1);
      if (closed) return;
      // An `error` not followed by `exit` must not leave a thread running outside the pool.
      void entry.worker.terminate();
      pool.push(spawn());
    };
    entry.worker.on('error', retire);
    entry.worker.on('exit', (code) =>
      retire(new Error(closed ? CLOSED : `schema validation thread exited (${code})`)),
    );
    return entry;
  };

  for (let i = 0; i < Math.max(1, options.workers); i++) pool.push(spawn());

  return {
    validate(schema, xml) {
      if (closed) return Promise.reject(new Error(CLOSED));
      // Least loaded thread: validations take from microseconds to a second (big files).
      const entry = pool.reduce((best, candidate) =>
        candidate.inFlight.size < best.inFlight.size ? candidate : best,
      );
      const id = nextId++;
      return new Promise((resolve, reject) => {
        entry.inFlight.set(id, { resolve, reject });
        entry.worker.postMessage({ id, bundle: schema, xml });
      });
    },
    async close() {
      closed = true;
      // Terminating fires `exit`, which rejects what each thread still had in flight.
      await Promise.all(pool.splice(0).map((entry) => entry.worker.terminate()));
    },
  };
}

function parseProblems(lines: string[]): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const line of lines) {
    const match = /^:(\d+): (?:[\w ]*error : )?(.*)$/.exec(line);
    if (match) problems.push({ line: Number(match[1]), message: match[2]!.trim() });
  }
  if (problems.length === 0) problems.push({ line: undefined, message: 'the message does not validate' });
  return problems;
}

/**
 * The fault text for a schema violation. The STS runs a Java validator whose messages start with the
 * XML Schema constraint name (`cvc-particle 2.1: …`, IT p.2); libxml2 words them its own way, so the
 * constraint name is derived from libxml2's message and its text follows. Clients match `cvc-`.
 */
export function toCvcMessage(problem: SchemaProblem): string {
  const text = problem.message;
  const facet = /\[facet '(\w+)'\]/.exec(text)?.[1];
  let constraint: string;
  if (facet) constraint = `cvc-${facet}-valid`;
  else if (/This element is not expected/.test(text)) constraint = 'cvc-complex-type.2.4.a';
  else if (/Missing child element/.test(text)) constraint = 'cvc-complex-type.2.4.b';
  else if (/Character content (other than whitespace )?is not allowed/.test(text))
    constraint = 'cvc-complex-type.2.3';
  else if (/Element content is not allowed/.test(text)) constraint = 'cvc-complex-type.2.2';
  else if (/attribute .* is not allowed/i.test(text)) constraint = 'cvc-complex-type.3.2.2';
  else if (/No matching global (element )?declaration/.test(text)) constraint = 'cvc-elt.1.a';
  else if (/is not a valid value of the (atomic|list|union) type/.test(text))
    constraint = 'cvc-datatype-valid.1.2.1';
  else constraint = 'cvc-type.3.1.3';
  return `${constraint}: ${text}${problem.line === undefined ? '' : ` (line ${problem.line})`}`;
}
