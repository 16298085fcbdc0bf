import { OPERATOR_ROUTES, ProblemError } from '@sts/shared';

/** How a refused login attempt is worded: for the caller (a problem) and for the credential's view. */

export type RefusalReason = 'login-budget-spent' | 'password-known-to-fail';
/** Where an attempt was refused: a test, a lease, or a create or change that sets a password. */
export type AttemptKind = 'test' | 'lease' | 'create' | 'update';

export interface Refusal {
  reason: RefusalReason;
  failures: number;
  inFlight: number;
  budget: number;
}

const STS_LOCKS =
  'The STS disables a user after about 8 wrong passwords, and only the ASL or the medical board can re-enable it.';
const resetRoute = (credentialId: string | null) =>
  `POST ${OPERATOR_ROUTES.credentials}/${credentialId ?? '<id>'}/login-budget/reset`;

export const STOPPED_REMEDY = {
  it: 'Nessun altro tentativo viene fatto con questa utenza, per non farla bloccare dal Sistema TS (circa 8 tentativi errati la disabilitano). Verificare con il medico la password attuale, inserirla nella credenziale, poi un amministratore (il medico, con la sua CNS) azzera il contatore dei tentativi.',
  en: 'No further attempt is made with this login, so that Sistema TS does not lock it (about 8 wrong attempts disable it). Confirm the current password with the doctor and enter it in the credential; then an administrator (the doctor, with their CNS card) resets the count of attempts.',
};

export function refusalProblem(refusal: Refusal, credentialId: string | null, status = 409): ProblemError {
  if (refusal.reason === 'login-budget-spent') {
    const failed = refusal.failures - refusal.inFlight;
    const used =
      refusal.inFlight > 0
        ? `${failed} failed and ${refusal.inFlight} still in progress`
        : `${refusal.failures} failed`;
    return new ProblemError({
      status,
      type: 'login-budget-spent',
      title: 'No more login attempts for this STS user',
      detail: `The login attempts allowed for this STS user are used up: ${used}, of ${refusal.budget}, since its last successful login, across every credential and clinic that uses it. ${STS_LOCKS} So nothing more is sent with this login. Confirm the right password with the doctor and enter it in the credential; then an administrator (the doctor, with their CNS card) resets the login's budget (${resetRoute(credentialId)}) and the credential can be tested.`,
    });
  }
  const message =
    'The STS already refused this password for this STS user (with this or another credential): it is not sent again. Enter the current password (check it with the doctor, or by logging in on sistemats.it).';
  return new ProblemError({
    status,
    type: 'password-known-to-fail',
    title: 'This password already failed for this STS user',
    detail: `${message} ${STS_LOCKS}`,
    ...(status === 422 ? { errors: [{ field: 'password', rule: 'password.known-to-fail', message }] } : {}),
  });
}
