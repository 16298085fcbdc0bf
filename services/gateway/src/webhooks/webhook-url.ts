import type { FieldProblem } from '@sts/shared';
import { MAX_WEBHOOK_URL_LENGTH } from './webhook-endpoints-table.ts';

export interface WebhookUrlPolicy {
  /** Whether `http:` URLs are accepted (never in production; for local receivers and tests). */
  allowHttp: boolean;
}

/**
 * The checks of an endpoint's URL, on create, update and again before each delivery: an absolute
 * `https:` URL (`http:` only where allowed), at most 2048 characters, no user or password in it
 * (they would be stored and logged as the URL), no fragment. Problems name the field and the rule.
 */
export function checkWebhookUrl(value: string, policy: WebhookUrlPolicy, field = 'url'): FieldProblem[] {
  const problem = (rule: string, message: string): FieldProblem[] => [{ field, rule, message }];
  if (value.length > MAX_WEBHOOK_URL_LENGTH) {
    return problem('max-length', `A webhook URL has at most ${MAX_WEBHOOK_URL_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem('url', 'Must be an absolute URL, e.g. https://example.com/webhooks/sts.');
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    return problem(
      'https',
      policy.allowHttp
        ? 'Must start with https:// or http://.'
        : 'Must start with https:// (webhooks are sent over TLS only).',
    );
  }
  if (url.username || url.password) {
    return problem(
      'no-credentials',
      'Must not hold a user or password: the signature authenticates the gateway.',
    );
  }
  if (url.hash) return problem('no-fragment', 'Must not have a #fragment.');
  if (!url.hostname) return problem('url', 'Must name a host.');
  return [];
}
