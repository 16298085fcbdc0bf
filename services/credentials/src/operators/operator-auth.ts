import type { TLSSocket } from 'node:tls';
import { unauthenticated } from '@sts/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { auditReason } from '../credentials/credential-routes.ts';
import type { CallContext } from '../credentials/credential-service.ts';
import { cnsTaxCode } from './cns-identity.ts';

/** An operator identified by the CNS / TS-CNS certificate presented over mutual TLS. */
export interface Operator {
  taxCode: string;
  certificateSerial: string;
  certificateFingerprint: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    operator: Operator | null;
  }
}

/** Node's names for why a client certificate did not verify, said for a person. */
const TLS_PROBLEMS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the certificate has expired: renew the card certificate',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate is not issued by a CA this service trusts',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate is not issued by a CA this service trusts',
  UNABLE_TO_GET_ISSUER_CERT: 'the certificate is not issued by a CA this service trusts',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chains to an untrusted self-signed CA',
  CERT_SIGNATURE_FAILURE: 'the certificate signature does not verify',
  CERT_REVOKED: 'the certificate is revoked',
};

/**
 * Guards the operator routes registered in the same scope: the TLS handshake must have presented a
 * client certificate that chains to a configured CNS CA (the server verifies; it only asks, so that
 * token-authenticated callers connect without one), and its subject must carry a codice fiscale.
 */
export const operatorAuth = fp(
  async (app: FastifyInstance) => {
    if (!app.hasRequestDecorator('operator')) app.decorateRequest('operator', null);
    app.addHook('onRequest', async (request) => {
      const socket = request.raw.socket as Partial<TLSSocket>;
      if (typeof socket.getPeerCertificate !== 'function') {
        throw unauthenticated(
          'Operators authenticate with their CNS card over mutual TLS; this connection is not TLS.',
        );
      }
      const certificate = socket.getPeerCertificate();
      if (!certificate || Object.keys(certificate).length === 0) {
        throw unauthenticated(
          'Present your CNS / TS-CNS card certificate (mutual TLS) to manage your credentials.',
        );
      }
      if (!socket.authorized) {
        const code = String(socket.authorizationError ?? '');
        request.log.warn({ tlsProblem: code }, 'operator certificate refused');
        throw unauthenticated(
          `The client certificate was refused: ${TLS_PROBLEMS[code] ?? 'it does not verify'}.`,
        );
      }
      const identity = cnsTaxCode(certificate.subject as never);
      if (!identity.ok) throw unauthenticated(`The client certificate was refused: ${identity.problem}.`);
      request.operator = {
        taxCode: identity.taxCode,
        certificateSerial: certificate.serialNumber,
        certificateFingerprint: certificate.fingerprint256,
      };
    });
  },
  { name: 'operator-auth', fastify: '5.x' },
);

/** The call context of an operator's request: their own credentials only. */
export function operatorContext(request: FastifyRequest): CallContext {
  const operator = request.operator;
  if (!operator) throw unauthenticated('Present your CNS card certificate.');
  const reason = auditReason(request);
  return {
    scope: { kind: 'operator', taxCode: operator.taxCode },
    actor: { kind: 'operator', id: `operator:${operator.taxCode}` },
    requestId: request.id,
    ...(reason ? { reason } : {}),
  };
}
