import { setTimeout as sleep } from 'node:timers/promises';
import { readZipArchive } from '@sts/sts';
import { type SchemaValidator, toCvcMessage } from '../src/schema/schema-validator.ts';
import {
  mtomRequest,
  precompilataXml,
  precompilataZip,
  receiptEnvelope,
  syncEnvelope,
  type TestDocument,
  type TestOwner,
  uploadEnvelope,
} from './envelopes.ts';
import { findAll, findText, type Harness, type SoapAnswer } from './harness.ts';
import { type KitActor, ownerOf, PATH } from './kit-actors.ts';

/** Calls as a client makes them, over HTTP, for tests and the benchmark. */

export type Transport = 'xop' | 'cid-text' | 'inline-base64';

export async function upload(
  h: Harness,
  actor: KitActor,
  input: {
    zip: Buffer;
    fileName?: string;
    transport?: Transport;
    pincode?: string;
    owner?: TestOwner;
    optional1?: string;
  },
): Promise<SoapAnswer> {
  const fileName = input.fileName ?? 'prova01.zip';
  const transport = input.transport ?? 'xop';
  const envelope = uploadEnvelope({
    fileName,
    pincode: input.pincode ?? h.pin(actor.pincode),
    owner: input.owner ?? ownerOf(actor, actor.taxCode),
    ...(input.optional1 !== undefined ? { optional1: input.optional1 } : {}),
    document: transport === 'inline-base64' ? input.zip.toString('base64') : `cid:${fileName}`,
  });
  const auth = { user: actor.user, password: actor.password };
  if (transport === 'inline-base64') return h.soap(PATH.upload, envelope, auth);
  const message = mtomRequest(envelope, [{ contentId: fileName, bytes: input.zip }], {
    xop: transport === 'xop',
  });
  return h.soap(PATH.upload, message.body, { ...auth, contentType: message.contentType });
}

/** A 730 zip for `actor` with its owner CF encrypted for the simulator. */
export function fileFor(
  h: Harness,
  actor: KitActor,
  documents: TestDocument[],
  fileName = 'prova01.zip',
): Buffer {
  return precompilataZip(fileName, precompilataXml(ownerOf(actor, h.cf(actor.taxCode)), documents));
}

export interface Outcome {
  status: number;
  sent: number;
  accepted: number;
  warnings: number;
  errors: number;
  answer: SoapAnswer;
}

export async function outcome(h: Harness, actor: KitActor, protocol: string): Promise<Outcome> {
  const answer = await h.soap(
    PATH.outcome,
    receiptEnvelope('EsitoInvii', { pincode: h.pin(actor.pincode), protocol }),
    {
      user: actor.user,
      password: actor.password,
    },
  );
  const number = (name: string) => Number(findText(answer.body, name));
  return {
    status: number('stato'),
    sent: number('nInviati'),
    accepted: number('nAccolti'),
    warnings: number('nWarnings'),
    errors: number('nErrori'),
    answer,
  };
}

/** Polls EsitoInvii until the upload is processed (stato 2, 3 or 5). */
export async function waitForOutcome(h: Harness, actor: KitActor, protocol: string): Promise<Outcome> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const current = await outcome(h, actor, protocol);
    if ([2, 3, 5].includes(current.status)) return current;
    await sleep(20);
  }
  throw new Error(`upload ${protocol} was not processed`);
}

export async function errorDetail(h: Harness, actor: KitActor, protocol: string): Promise<SoapAnswer> {
  return h.soap(
    PATH.errorDetail,
    receiptEnvelope('DettaglioErrori', { pincode: h.pin(actor.pincode), protocol }),
    {
      user: actor.user,
      password: actor.password,
    },
  );
}

/** The CSV inside a DettaglioErrori answer, decoded as Latin-1. */
export function errorCsv(answer: SoapAnswer): { entryName: string; bytes: Buffer; text: string } {
  const zip = Buffer.from(findText(answer.body, 'csv') ?? '', 'base64');
  const { entryName, content } = readZipArchive(zip);
  return { entryName, bytes: content, text: content.toString('latin1') };
}

export async function sync(
  h: Harness,
  actor: KitActor,
  operation: 'insert' | 'update' | 'refund' | 'cancel',
  document: TestDocument,
  options: { pincode?: string; owner?: TestOwner } = {},
): Promise<SoapAnswer & { outcome: string; protocol: string | undefined; codes: string[] }> {
  const envelope = syncEnvelope(operation, {
    pincode: options.pincode ?? h.pin(actor.pincode),
    owner: options.owner ?? ownerOf(actor, h.cf(actor.taxCode)),
    document,
  });
  const answer = await h.soap(PATH.singleDocument, envelope, {
    user: actor.user,
    password: actor.password,
    soapAction: `${operation === 'insert' ? 'inserimento' : operation === 'update' ? 'variazione' : operation === 'refund' ? 'rimborso' : 'cancellazione'}.documentospesap730.sanita.finanze.it`,
  });
  return {
    ...answer,
    outcome: findText(answer.body, 'esitoChiamata') ?? '',
    protocol: findText(answer.body, 'protocollo'),
    codes: findAll(answer.body, 'codice').map((element) => element.text.trim()),
  };
}

/** Fails with the validator's words if a whole SOAP message does not validate against the service's XSD. */
export async function schemaProblems(
  validator: SchemaValidator,
  service: Parameters<SchemaValidator['validate']>[0],
  xml: string,
): Promise<string[]> {
  const result = await validator.validate(service, xml);
  return result.problems.map(toCvcMessage);
}
