import { type Clock, invalidRequest, notFound, ProblemError } from '@sts/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DECRYPTION_MODES, type FieldDecryptor } from '../crypto/field-decryptor.ts';
import type { DocumentArchive } from '../documents/document-archive.ts';
import type { CallCounters } from '../faults/call-counters.ts';
import { type FaultInjector, faultSpecSchema } from '../faults/fault-injector.ts';
import type { UploadProcessor } from '../uploads/upload-processor.ts';
import type { UploadStore } from '../uploads/upload-store.ts';
import { type SimulatorUser, simulatorUserSchema } from '../users/simulator-user.ts';
import type { UserDirectory } from '../users/user-directory.ts';
import { adminTokenMatches } from './admin-token.ts';

/**
 * The simulator's control surface under `/__admin/` (JSON, problem+json errors): its certificate,
 * accounts (unlock, new password, expire), injected faults, counters, uploads, settings, reset.
 * Every route needs the admin token, as `Authorization: Bearer <token>` or `x-admin-token: <token>`:
 * a missing or wrong one is a 401 problem+json, before the route runs.
 */

export interface AdminDeps {
  adminToken: string;
  certificatePem: string;
  users: UserDirectory;
  faults: FaultInjector;
  calls: CallCounters;
  archive: DocumentArchive;
  uploads: UploadStore;
  processor: UploadProcessor;
  decryptor: FieldDecryptor;
  settings: { processingDelayMs: number; receiptDelayMs: number };
  schemaValidation: boolean;
  reset(): void;
  clock: Clock;
  /** More routes under `/__admin/`, behind the same token (each domain registers its own). */
  routes?: ((admin: FastifyInstance) => void)[];
}

/** A body or query checked with `schema`; every bad field is named in a 400 problem. */
export function parseAdminBody<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw invalidRequest(
    result.error.issues.map((issue) => ({
      field: issue.path.map(String).join('.') || 'body',
      rule: issue.code,
      message: issue.message,
    })),
  );
}

function presentUser(user: SimulatorUser, users: UserDirectory, now: Date) {
  const state = users.loginState(user.username);
  const expiresAt = state?.passwordExpiresAt ?? user.passwordExpiresAt;
  const passwordExpired =
    (expiresAt !== undefined && new Date(expiresAt).getTime() <= now.getTime()) ||
    (user.expired && state?.password === undefined && state?.passwordExpiresAt === undefined);
  return {
    username: user.username,
    kind: user.kind,
    category: user.category,
    owner: user.owner,
    delegators: user.delegators,
    ...(user.entratelSite ? { entratelSite: user.entratelSite } : {}),
    locked: state?.locked ?? false,
    failedAttempts: state?.failedAttempts ?? 0,
    passwordExpired,
    ...(expiresAt ? { passwordExpiresAt: expiresAt } : {}),
  };
}

const passwordSchema = z.object({
  password: z.string().min(1),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
});
const settingsSchema = z.object({
  decryption: z
    .object({
      mode: z.enum(DECRYPTION_MODES).optional(),
      sampleEvery: z.number().int().positive().optional(),
    })
    .optional(),
  processingDelayMs: z.number().int().min(0).max(86_400_000).optional(),
  receiptDelayMs: z.number().int().min(0).max(86_400_000).optional(),
});
const documentQuerySchema = z.object({
  vatNumber: z.string().min(1),
  issueDate: z.string().min(1),
  device: z.coerce.number().int(),
  number: z.string().min(1),
});

export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  void app.register(
    async (admin) => {
      admin.addHook('onRequest', async (request: FastifyRequest, reply) => {
        const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
        const header = request.headers['x-admin-token'];
        const given = bearer ?? (typeof header === 'string' ? header : undefined);
        if (adminTokenMatches(deps.adminToken, given)) return;
        reply.header(
          'www-authenticate',
          given === undefined ? 'Bearer realm="sts-simulator-admin"' : 'Bearer error="invalid_token"',
        );
        throw new ProblemError({
          status: 401,
          type: 'admin-token',
          title: given === undefined ? 'Admin token required' : 'Admin token refused',
          detail:
            'Send the admin token as "Authorization: Bearer <token>" or "x-admin-token": STS_SIM_ADMIN_TOKEN, or the generated one (printed at its first start, kept in the admin-token file of the state directory).',
        });
      });

      admin.get('/certificate', async (_request, reply) =>
        reply.type('application/x-pem-file').send(deps.certificatePem),
      );

      admin.get('/settings', async () => ({
        decryption: deps.decryptor.settings(),
        processingDelayMs: deps.settings.processingDelayMs,
        receiptDelayMs: deps.settings.receiptDelayMs,
        schemaValidation: deps.schemaValidation,
        decryptionStats: deps.decryptor.stats(),
      }));
      admin.patch('/settings', async (request) => {
        const body = parseAdminBody(settingsSchema, request.body);
        if (body.decryption) {
          deps.decryptor.configure({
            ...(body.decryption.mode ? { mode: body.decryption.mode } : {}),
            ...(body.decryption.sampleEvery ? { sampleEvery: body.decryption.sampleEvery } : {}),
          });
        }
        if (body.processingDelayMs !== undefined) deps.settings.processingDelayMs = body.processingDelayMs;
        if (body.receiptDelayMs !== undefined) deps.settings.receiptDelayMs = body.receiptDelayMs;
        return {
          decryption: deps.decryptor.settings(),
          processingDelayMs: deps.settings.processingDelayMs,
          receiptDelayMs: deps.settings.receiptDelayMs,
        };
      });

      admin.get('/users', async () =>
        deps.users.list().map((user) => presentUser(user, deps.users, deps.clock())),
      );
      admin.get('/users/:username', async (request) => {
        const { username } = request.params as { username: string };
        const user = deps.users.get(username);
        if (!user) throw notFound(`User ${username}`);
        return presentUser(user, deps.users, deps.clock());
      });
      admin.post('/users', async (request, reply) => {
        const user = deps.users.upsert(parseAdminBody(simulatorUserSchema, request.body));
        return reply.code(201).send(presentUser(user, deps.users, deps.clock()));
      });
      const userAction =
        (action: (username: string, request: FastifyRequest) => boolean) =>
        async (request: FastifyRequest) => {
          const { username } = request.params as { username: string };
          if (!action(username, request)) throw notFound(`User ${username}`);
          return presentUser(deps.users.get(username)!, deps.users, deps.clock());
        };
      admin.post(
        '/users/:username/unlock',
        userAction((username) => deps.users.unlock(username)),
      );
      admin.post(
        '/users/:username/password',
        userAction((username, request) => {
          const body = parseAdminBody(passwordSchema, request.body);
          return deps.users.setPassword(username, body.password, body.expiresAt);
        }),
      );
      admin.post(
        '/users/:username/expire',
        userAction((username) => deps.users.expire(username)),
      );

      admin.get('/faults', async () => deps.faults.list());
      admin.post('/faults', async (request, reply) =>
        reply.code(201).send(deps.faults.add(parseAdminBody(faultSpecSchema, request.body))),
      );
      admin.delete('/faults/:id', async (request, reply) => {
        const { id } = request.params as { id: string };
        if (!deps.faults.remove(id)) throw notFound(`Fault ${id}`);
        return reply.code(204).send();
      });
      admin.delete('/faults', async (_request, reply) => {
        deps.faults.clear();
        return reply.code(204).send();
      });

      admin.get('/counters', async () => ({
        calls: deps.calls.snapshot(),
        documents: deps.archive.counters(),
      }));
      admin.get('/counters/concurrency', async () => deps.calls.concurrency());
      admin.get('/counters/document', async (request) => {
        const id = parseAdminBody(documentQuerySchema, request.query);
        const counter = deps.archive.counter(id);
        if (!counter) throw notFound('A counter for this document');
        return counter;
      });

      admin.get('/uploads', async () =>
        deps.uploads.list().map(({ zip: _zip, result, ...upload }) => ({
          ...upload,
          status: deps.processor.statusOf({ ...upload, ...(result ? { result } : {}) }, deps.clock()),
          ...(result ? { result: { ...result, rows: result.rows.length } } : {}),
        })),
      );
      admin.get('/uploads/:protocol', async (request) => {
        const { protocol } = request.params as { protocol: string };
        const record = deps.uploads.get(protocol);
        if (!record) throw notFound(`Upload ${protocol}`);
        const { zip: _zip, ...upload } = record;
        return { ...upload, status: deps.processor.statusOf(record, deps.clock()) };
      });
      admin.post('/uploads/process', async () => {
        await deps.processor.processAll();
        return { processed: true };
      });

      for (const register of deps.routes ?? []) register(admin);

      admin.post('/reset', async () => {
        deps.reset();
        return { reset: true };
      });
    },
    { prefix: '/__admin' },
  );
}
