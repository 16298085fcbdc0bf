import { METHODS } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock, Logger } from '@sts/shared';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CallCounters } from '../faults/call-counters.ts';
import type { FaultInjector } from '../faults/fault-injector.ts';
import {
  type OperationName,
  PATH_PREFIXES,
  type PathPrefix,
  SERVICES,
  type ServiceDefinition,
  SOAP_ENVELOPE_NS,
  SOAP12_ENVELOPE_NS,
} from '../protocol/services.ts';
import { type SchemaValidator, toCvcMessage } from '../schema/schema-validator.ts';
import { parseBasicAuthorization, type UserDirectory } from '../users/user-directory.ts';
import type { OperationHandler } from './soap-call.ts';
import {
  AUTH_FAULTS,
  SOAP_CONTENT_TYPE,
  SoapFault,
  soapEnvelope,
  soapFaultEnvelope,
} from './soap-messages.ts';
import { readSoapRequest } from './soap-request.ts';
import { childElement, parseXmlTree, type XmlSyntaxError } from './xml-tree.ts';

/**
 * Every service at its official path, also under `/entrate` and `/enti` (§1.2). One pipeline for all:
 * read the message (MTOM or not) → find the operation → check the SOAPAction → count the call →
 * injected faults → Basic authentication (faults "Errore generico di autenticazione", locked,
 * expired) → validation against the service's XSD (`cvc-…` fault) → the operation → answer, or drop
 * the answer if a lost-answer fault asks for it. Faults are SOAP 1.1 faults with HTTP 500.
 *
 * Called wrongly, every one of these paths answers a SOAP fault, never a bare 404: any other method
 * (GET without `?wsdl` too, see wsdl-routes.ts), a body that is not a SOAP 1.1 envelope whatever its
 * Content-Type (every body reaches the pipeline as bytes: no JSON or text parsing here), an element
 * of no operation of the service, a SOAPAction of another operation.
 */

export interface SoapRouteDeps {
  handlers: Record<OperationName, OperationHandler>;
  users: UserDirectory;
  validator: SchemaValidator | undefined;
  faults: FaultInjector;
  calls: CallCounters;
  clock: Clock;
  logger: Logger;
}

export const sendFault = (reply: FastifyReply, fault: SoapFault) =>
  reply
    .code(500)
    .type(SOAP_CONTENT_TYPE)
    .send(
      soapFaultEnvelope({
        code: fault.code,
        message: fault.message,
        ...(fault.reason ? { reason: fault.reason } : {}),
      }),
    );

/** Drops the connection without an answer (connection reset, lost answer). */
function dropConnection(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  request.raw.socket.destroy();
}

function authFault(reason: 'missing' | 'unknown-user' | 'wrong-password' | 'locked' | 'expired'): SoapFault {
  const fault =
    reason === 'locked'
      ? AUTH_FAULTS.locked
      : reason === 'expired'
        ? AUTH_FAULTS.expired
        : AUTH_FAULTS.generic;
  return new SoapFault({ code: 'Client', message: fault.message, reason: fault.reason });
}

/** A SOAP endpoint called with another method than POST (GET without `?wsdl` included). */
export function wrongMethodFault(method: string, endpoint: string): SoapFault {
  return new SoapFault({
    code: 'Client',
    message: `HTTP method ${method} is not allowed: this is a SOAP 1.1 endpoint, POST SOAP messages to it (its WSDL is at ${endpoint}?wsdl)`,
    reason: 'METODO_NON_AMMESSO',
  });
}

/**
 * The SOAPAction header may be absent or empty (WS-I clients differ, docs/protocol.md §1.3), or the
 * operation's own; another one is refused, in the wording of JAX-WS's dispatcher (inferred: no
 * source shows the STS's answer to a wrong SOAPAction).
 */
function soapActionFault(
  header: string | string[] | undefined,
  service: ServiceDefinition,
  operation: ServiceDefinition['operations'][number],
): SoapFault | undefined {
  const raw = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim();
  const action = /^"(.*)"$/s.exec(raw)?.[1] ?? raw;
  if (action === '' || action === operation.soapAction) return undefined;
  return new SoapFault({
    code: 'Client',
    message: `Cannot find dispatch method for Request=[SOAPAction="${action}",Payload={${service.namespace}}${operation.requestElement}]`,
    reason: 'SOAPACTION_ERRATA',
  });
}

export function registerSoapRoutes(app: FastifyInstance, deps: SoapRouteDeps): void {
  // An injected latency holds a request for up to ten minutes; `app.close()` waits for in-flight
  // requests, so closing cuts the wait short (the connection is dropped) instead of waiting it out.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  // Every method Node parses reaches a route (else fastify's 404); CONNECT never reaches `request`.
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !app.supportedMethods.includes(method))
      app.addHttpMethod(method, { hasBody: true });
  }
  void app.register(async (soap) => {
    // Whatever the Content-Type says, a body here is a SOAP message for the pipeline to judge.
    soap.removeAllContentTypeParsers();
    soap.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    // What fastify refuses before a handler (a body over the limit, QUERY without Content-Type…) too.
    soap.setErrorHandler((error: FastifyError, request, reply) => {
      if (request.method !== 'POST') {
        const url = request.url.split('?')[0] ?? '';
        return sendFault(reply.header('allow', 'POST'), wrongMethodFault(request.method, url));
      }
      const status = error.statusCode;
      if (status !== undefined && status >= 400 && status < 500) {
        return sendFault(
          reply,
          new SoapFault({ code: 'Client', message: error.message, reason: error.code ?? `HTTP_${status}` }),
        );
      }
      deps.logger.error({ err: error }, 'SOAP route failed');
      return sendFault(reply, new SoapFault({ code: 'Server', message: 'Errore interno del simulatore' }));
    });
    // GET (and so HEAD) belongs to `?wsdl` (wsdl-routes.ts), which answers this same fault otherwise.
    const otherMethods = soap.supportedMethods.filter((method) => !['GET', 'HEAD', 'POST'].includes(method));
    for (const service of SERVICES) {
      for (const prefix of PATH_PREFIXES) {
        const url = `${prefix}${service.path}`;
        soap.post(url, (request, reply) => handle(service, prefix, request, reply, deps, closing.signal));
        soap.route({
          method: otherMethods,
          url,
          handler: (request, reply) =>
            sendFault(reply.header('allow', 'POST'), wrongMethodFault(request.method, url)),
        });
      }
    }
  });
}

async function handle(
  service: ServiceDefinition,
  prefix: PathPrefix,
  request: FastifyRequest,
  reply: FastifyReply,
  deps: SoapRouteDeps,
  closing: AbortSignal,
): Promise<void> {
  const receivedAt = deps.clock();
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  let endCall: (() => void) | undefined;
  try {
    const message = readSoapRequest(body, request.headers['content-type']);
    let envelope: ReturnType<typeof parseXmlTree>;
    try {
      envelope = parseXmlTree(message.xml);
    } catch (error) {
      throw new SoapFault({
        code: 'Client',
        message: (error as XmlSyntaxError).message,
        reason: 'XML_NON_VALIDO',
      });
    }
    if (envelope.ns === SOAP12_ENVELOPE_NS)
      throw new SoapFault({ code: 'VersionMismatch', message: 'SOAP 1.2 is not supported: use SOAP 1.1' });
    if (envelope.local !== 'Envelope' || envelope.ns !== SOAP_ENVELOPE_NS)
      throw new SoapFault({ code: 'Client', message: 'The message is not a SOAP 1.1 envelope' });
    const payload = childElement(envelope, 'Body', SOAP_ENVELOPE_NS)?.children[0];
    const operation =
      payload &&
      service.operations.find(
        (op) => op.requestElement === payload.local && payload.ns === service.namespace,
      );
    if (!payload || !operation) {
      const name = payload ? `{${payload.ns}}${payload.local}` : 'an empty Body';
      throw new SoapFault({ code: 'Client', message: `Cannot find dispatch method for ${name}` });
    }
    const wrongAction = soapActionFault(request.headers.soapaction, service, operation);
    if (wrongAction) throw wrongAction;

    const claimedUser = parseBasicAuthorization(request.headers.authorization)?.username;
    deps.calls.record(operation.name, claimedUser);
    endCall = deps.calls.begin(claimedUser);
    const plan = deps.faults.plan({ user: claimedUser, operation: operation.name });
    if (plan.latencyMs > 0) {
      try {
        await sleep(plan.latencyMs, undefined, { signal: closing });
      } catch {
        dropConnection(request, reply);
        return;
      }
    }
    if (plan.abort) {
      switch (plan.abort.kind) {
        case 'throttle':
          reply
            .code(plan.abort.status)
            .header('retry-after', String(plan.abort.retryAfterSeconds))
            .type('text/plain; charset=utf-8')
            .send(plan.abort.status === 429 ? 'Too Many Requests' : 'Service Unavailable');
          return;
        case 'http-500':
          reply
            .code(500)
            .type(SOAP_CONTENT_TYPE)
            .send(
              soapFaultEnvelope({
                code: 'Server',
                message: 'Internal Server Error',
                reason: 'GUASTO_SIMULATO',
              }),
            );
          return;
        case 'http-503':
          reply
            .code(503)
            .type('text/html; charset=utf-8')
            .send('<html><body><h1>503 Service Unavailable</h1></body></html>');
          return;
        case 'reset':
          dropConnection(request, reply);
          return;
      }
    }

    const auth = deps.users.authenticate(request.headers.authorization);
    if (!auth.ok) throw authFault(auth.reason);

    if (deps.validator) {
      const validation = await deps.validator.validate(`soap:${service.id}`, message.xml);
      if (!validation.valid)
        throw new SoapFault({
          code: 'Client',
          message: toCvcMessage(validation.problems[0]!),
          reason: 'SCHEMA',
        });
    }

    const handler = deps.handlers[operation.name];
    const response = await handler({
      service,
      operation,
      prefix,
      user: auth.user,
      payload,
      document: message.document,
      receivedAt,
    });
    if (plan.lostAnswer) {
      dropConnection(request, reply);
      return;
    }
    reply.code(200).type(SOAP_CONTENT_TYPE).send(soapEnvelope(response));
  } catch (error) {
    if (error instanceof SoapFault) {
      sendFault(reply, error);
      return;
    }
    deps.logger.error({ err: error, service: service.id }, 'SOAP call failed');
    sendFault(reply, new SoapFault({ code: 'Server', message: 'Errore interno del simulatore' }));
  } finally {
    endCall?.();
  }
}
