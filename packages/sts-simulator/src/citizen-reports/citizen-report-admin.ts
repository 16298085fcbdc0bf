import { type Clock, invalidRequest, notFound } from '@sts/shared';
import type { DocumentId } from '@sts/sts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseAdminBody } from '../admin/admin-routes.ts';
import { type DocumentArchive, documentKey } from '../documents/document-archive.ts';
import { fromCents, toCents } from '../queries/query-handlers.ts';
import { isoDate } from '../time/rome-time.ts';
import { ownerKey, ownerSchema, ownOwner } from '../users/simulator-user.ts';
import type { UserDirectory } from '../users/user-directory.ts';
import type { CitizenReport, CitizenReportStore } from './citizen-report-store.ts';

/**
 * `/__admin/citizen-reports`: seeding the reports citizens file (the real STS takes them from its
 * citizens' portal). A report is about a document the simulator holds or any document id; whose it
 * is comes from `owner`, or `username` (that account's own owner data, a delegate's only delegator),
 * or else from the one owner whose archive holds that id. Every value is checked against what the
 * services' XSD lets them answer, so a seeded report always gives a schema-valid answer; texts are
 * Latin-1, as the list file.
 */

const day = z.iso
  .date()
  .refine((value) => value >= '2013-01-01', 'must be 2013-01-01 or later (DataMinType of the XSD)');
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(
      /^[\t\n\r\u0020-\u007e\u00a0-\u00ff]+$/,
      'printable Latin-1 characters only (the list file is Latin-1)',
    );

const reportedLineSchema = z.object({
  expenseType: z.string().regex(/^[A-Z]{2}$/, 'an expense type code, e.g. SR'),
  amount: z
    .string()
    .regex(/^\d{1,9}(\.\d{1,2})?$/, 'a decimal amount with at most two decimals, e.g. 80.50')
    .transform((amount) => fromCents(toCents(amount)))
    .optional(),
  amountReport: text(500).optional(),
  expenseTypeReport: text(500).optional(),
});

export const citizenReportSchema = z
  .object({
    owner: ownerSchema
      .refine((owner) => owner.taxCode || owner.office, 'give taxCode (professionals) or office (structures)')
      .optional(),
    username: z.string().min(1).max(64).optional(),
    document: z.object({
      vatNumber: z.string().regex(/^[A-Za-z0-9]{1,11}$/, 'at most 11 letters or digits (String11Type)'),
      issueDate: day,
      device: z.number().int().min(1).max(999),
      number: z.string().regex(/^[A-Za-z0-9_./\\-]{1,20}$/, 'NumDocType: 1-20 of A-Z a-z 0-9 _ . / \\ -'),
    }),
    /** The day the citizen filed it: `ReportSegnalazioni`'s period is about this day. Default: today in Italy. */
    filedOn: day.optional(),
    reports: z.array(text(1000)).max(50).default([]),
    lines: z.array(reportedLineSchema).max(50).default([]),
    refundedLines: z.array(reportedLineSchema).max(50).default([]),
    /** Answered for a document the simulator does not hold. */
    documentData: z
      .object({
        paymentDate: day.optional(),
        protocol: text(40).optional(),
        fileName: text(100).optional(),
        sentOn: day.optional(),
      })
      .optional(),
  })
  .refine(
    (report) =>
      report.reports.length > 0 ||
      [...report.lines, ...report.refundedLines].some((line) => line.amountReport || line.expenseTypeReport),
    {
      message: 'a report must say something: reports, or amountReport/expenseTypeReport on a line',
      path: ['reports'],
    },
  );

/** Owner keys whose archive holds a document with this id. */
function holdersOf(archive: DocumentArchive, id: DocumentId): string[] {
  const wanted = documentKey(id);
  const owners = new Set<string>();
  for (const [, document] of archive.entries()) {
    if (documentKey(document.id) === wanted) owners.add(document.owner);
  }
  return [...owners];
}

export function registerCitizenReportAdminRoutes(
  admin: FastifyInstance,
  deps: { reports: CitizenReportStore; archive: DocumentArchive; users: UserDirectory; clock: Clock },
): void {
  const present = (report: CitizenReport) => ({
    ...report,
    documentHeld: deps.archive.find(report.owner, report.documentId) !== undefined,
  });

  admin.get('/citizen-reports', async () => deps.reports.list().map(present));

  admin.post('/citizen-reports', async (request, reply) => {
    const body = parseAdminBody(citizenReportSchema, request.body);
    let owner: string;
    if (body.owner) {
      owner = ownerKey(body.owner);
    } else if (body.username) {
      const user = deps.users.get(body.username);
      if (!user) throw notFound(`User ${body.username}`);
      // As when a call names no owner: an account's own data, or a delegate's only delegator.
      const sendsForOthers = user.kind === 'delegate' || user.kind === 'entratel';
      const candidates = sendsForOthers ? user.delegators : [ownOwner(user)];
      if (candidates.length !== 1) {
        throw invalidRequest([
          {
            field: 'owner',
            rule: 'required',
            message: `${body.username} sends for ${candidates.length} owners: say which (owner)`,
          },
        ]);
      }
      owner = ownerKey(candidates[0]!);
    } else {
      const holders = holdersOf(deps.archive, body.document);
      if (holders.length !== 1) {
        throw invalidRequest([
          {
            field: 'owner',
            rule: 'required',
            message:
              holders.length === 0
                ? 'the simulator holds no document with this id: say whose it is (owner or username)'
                : 'several owners hold a document with this id: say whose it is (owner or username)',
          },
        ]);
      }
      owner = holders[0]!;
    }
    const report = deps.reports.add({
      owner,
      documentId: body.document,
      filedOn: body.filedOn ?? isoDate(deps.clock()),
      reports: body.reports,
      lines: body.lines,
      refundedLines: body.refundedLines,
      ...(body.documentData ? { document: body.documentData } : {}),
    });
    return reply.code(201).send(present(report));
  });

  admin.delete('/citizen-reports/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!deps.reports.remove(id)) throw notFound(`Citizen report ${id}`);
    return reply.code(204).send();
  });
}
