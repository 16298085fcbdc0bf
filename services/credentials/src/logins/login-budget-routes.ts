import { type FieldProblem, invalidRequest } from '@sts/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkedReason } from '../credentials/credential-routes.ts';
import type { CallContext, CredentialService } from '../credentials/credential-service.ts';

const MAX_REASON = 500;

/** `{ "reason": "…", "forgetFailedPasswords"?: boolean }`, every bad field named. */
function readReset(body: unknown): { reason: string; forgetFailedPasswords: boolean } {
  const value = (body ?? {}) as { reason?: unknown; forgetFailedPasswords?: unknown };
  const problems: FieldProblem[] = [];
  const { reason, problem } = checkedReason('reason', typeof value.reason === 'string' ? value.reason : '');
  if (problem) problems.push(problem);
  else if (!reason || reason.length > MAX_REASON) {
    problems.push({
      field: 'reason',
      rule: 'required',
      message: `Say why the budget is reset (1-${MAX_REASON} characters), e.g. "password confirmed with the doctor on the phone": it goes to the audit log.`,
    });
  }
  if (value.forgetFailedPasswords !== undefined && typeof value.forgetFailedPasswords !== 'boolean') {
    problems.push({
      field: 'forgetFailedPasswords',
      rule: 'type',
      message:
        'true forgets the passwords the STS refused for this login (only when one of them turned out to be right); leave it out otherwise.',
    });
  }
  if (problems.length) throw invalidRequest(problems);
  return { reason, forgetFailedPasswords: value.forgetFailedPasswords === true };
}

/**
 * The administrator's reset of a login's failed-login budget, once the right password is confirmed
 * with the doctor. Registered on the operator API only (a CNS card over mutual TLS): a service token
 * never reaches it, so the clinics' software that spent the budget cannot lift it by itself.
 */
export function registerLoginBudgetRoutes(
  app: FastifyInstance,
  {
    prefix,
    service,
    contextOf,
  }: {
    prefix: string;
    service: CredentialService;
    contextOf: (request: FastifyRequest) => CallContext;
  },
) {
  app.post(
    `${prefix}/:id/login-budget/reset`,
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string } }>) => {
      const { reason, forgetFailedPasswords } = readReset(request.body);
      const context = { ...contextOf(request), reason };
      const row = await service.load(context, request.params.id);
      await service.logins.reset(context, row, { forgetFailedPasswords });
      return service.get(context, row.id);
    },
  );
}
