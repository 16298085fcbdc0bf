import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '@sts/shared';
import soap from 'soap';
import { assertSealedPincode } from '../crypto/sealed-pincode.ts';
import type { DocumentId, EncryptedTaxCode, ExpenseDocument, Sender } from '../documents/expense-document.ts';
import { buildSingleDocumentRequest } from '../documents/single-document-body.ts';
import type { DocumentRules } from '../documents/validate-document.ts';
import { lookupStsCode } from '../errors/lookup-sts-code.ts';
import { readZipEntries } from '../files/zip-archive.ts';
import { answerText, vatNumberText } from './answer-text.ts';
import { type CitizenReportListFile, readCitizenReportListFile } from './citizen-report-list-file.ts';
import { type EndpointVariant, endpointUrl, type StsService, wsdlPath } from './endpoints.ts';
import { type DocumentError, parseErrorDetailCsv } from './error-detail-csv.ts';
import { isStillProcessing, notReadyBasis, type ReceiptWait, receiptWait } from './receipt-readiness.ts';
import { createSoapTransport, type TlsOptions, xopInclude } from './soap-transport.ts';
import {
  failureFromCode,
  failureFromError,
  failWith,
  type StsResult,
  succeed,
  unexpectedAnswer,
} from './sts-call.ts';

export interface StsClientOptions {
  /** `STS_ENVIRONMENTS.test`, `STS_ENVIRONMENTS.production`, or a simulator's address. */
  baseUrl: string;
  variant?: EndpointVariant;
  /** The STS user (codice fiscale or user code) and portal password, sent pre-emptively; absent for client-certificate-only credentials. */
  auth?: { user: string; password: string };
  /** `opzionale1` on every call: Entratel intermediaries put their "codice fiscale-sede telematica" here. */
  optional1?: string;
  tls?: TlsOptions;
  connectTimeoutMs?: number;
  responseTimeoutMs?: number;
  /** How documents are checked before the single-document service (kit test identifiers in test). */
  documentRules?: DocumentRules;
  /** Time, for the age of an upload in the receipt calls' waits (default: the system clock). */
  clock?: Clock;
}

/** `datiProprietario` of an upload: in CLEAR there, unlike everywhere else (docs/protocol.md §2.2). */
export interface UploadOwner {
  regionCode?: string;
  aslCode?: string;
  ssaCode?: string;
  taxCode?: string;
}

export interface UploadRequest {
  /** 6–60 basic-Latin characters ending in `.zip`. */
  fileName: string;
  zip: Buffer;
  encryptedPincode: string;
  owner: UploadOwner;
  /** Entratel intermediaries: the "codice fiscale-sede telematica". */
  optional1?: string;
  /** MTOM/XOP attachment (the default, as the kit asks) or base64 inside the envelope. */
  transfer?: 'mtom' | 'inline';
}

export interface UploadReceipt {
  protocol: string;
  /** As the STS wrote it: `dd-MM-yyyy HH:mm:ss`. */
  receivedAt: string;
  description: string;
  sizeBytes: number;
  fileName: string;
}

export type OutcomeQuery = (
  | { encryptedPincode: string; protocol: string }
  | { encryptedPincode: string; from: string; to: string }
) &
  Pick<ReceiptAsking, 'attempt' | 'uploadedAt'>;

/**
 * What the caller knows of the file whose outcome or receipt it asks for. Nothing of it is sent: it
 * tells "not ready yet" apart from a final answer and sets the wait (docs/protocol.md §1.8).
 */
export interface ReceiptAsking {
  /** How many times this has been asked for this file, this call included: 1 the first time (default). */
  attempt?: number;
  /** When the file was uploaded (`UploadReceipt.receivedAt`, Italian time): an old upload waits longer. */
  uploadedAt?: Date;
  /**
   * The `stato` EsitoInvii last gave for the file. 0 or 1 (still processing) turns a negative answer
   * of DettaglioErrori or RicevutaPdf into "not ready yet" unless its code is a final one (WS37): an
   * inferred rule. Ask EsitoInvii first and pass it.
   */
  lastKnownState?: number;
}

/** DettaglioErrori and RicevutaPdf: one upload's receipt. */
export type ReceiptQuery = { encryptedPincode: string; protocol: string } & ReceiptAsking;

/**
 * "Not ready, ask again later": neither a failure (nothing to retry blindly) nor final. The STS said
 * so with a `processing` code (`sts-code`: WS15, an unconfirmed code), or the file was still being
 * processed when last asked (`still-processing`, inferred). The wait is ours: the STS gives no hint.
 */
export interface ReceiptNotReady {
  available: false;
  notReady: true;
  basis: 'sts-code' | 'still-processing';
  wait: ReceiptWait;
  notices: StsNotice[];
}

/** Final: there is nothing to give (no errors to detail, a rejected file: WS37, an unknown protocol: WS96…). */
export interface ReceiptNotAvailable {
  available: false;
  notReady: false;
  notices: StsNotice[];
}

/** EsitoInvii's answer; `notReady` when an upload listed is still queued or processing (stato 0/1). */
export type OutcomeAnswer = { found: boolean; uploads: UploadOutcome[]; notices: StsNotice[] } & (
  | { notReady: false }
  | {
      notReady: true;
      /** The protocols still at stato 0/1. */
      stillProcessing: string[];
      wait: ReceiptWait;
    }
);

export interface UploadOutcome {
  protocol: string;
  sentAt: string;
  /** EsitoInvii `stato`: 0 queued, 1 processing, 2 done, 3 done with errors, 5 rejected in processing, 9 rejected at reception. */
  state: number;
  description: string;
  sent: number;
  accepted: number;
  warnings: number;
  errors: number;
}

export interface StsNotice {
  code: string;
  description: string;
}

export interface StsMessage {
  code: string;
  description: string;
  /** E error, W warning, S statistic/scarto; empty on the "Operazione eseguita correttamente" line. */
  type: string;
}

export interface DocumentOutcome {
  outcome: 'accepted' | 'accepted-with-warnings' | 'rejected';
  protocol?: string;
  messages: StsMessage[];
  /**
   * Rejected only because the STS already holds this document id (S017). After a lost answer this
   * is how a resend learns the first send arrived; on a first send it means someone else sent it.
   */
  alreadyPresent: boolean;
}

export interface StoredDocument {
  id?: DocumentId;
  paymentDate?: string;
  totals: { expenseType: string; amount: string }[];
  refundedTotals: { expenseType: string; amount: string }[];
  protocol?: string;
  fileName?: string;
  sentOn?: string;
  sendType?: string;
  errors: StsMessage[];
}

export type { CitizenReportListFile, CitizenReportRow } from './citizen-report-list-file.ts';

/** An expense line of a document citizens reported on (`listaVociSpesa`, `listaVociSpesaRimborsate`). */
export interface ReportedExpenseLine {
  expenseType: string;
  /** Two decimals; absent when the STS gave none. */
  amount?: string;
  /** `segnalazioneImporto`: what was reported about the amount, as the STS wrote it (values unpublished). */
  amountReport?: string;
  /** `segnalazioneTipoVoceSpesa`: what was reported about the expense type, as the STS wrote it. */
  expenseTypeReport?: string;
}

/** `DettaglioSegnalazione`'s `documentoFiscale`: the document as the STS holds it, with the reports on it. */
export interface ReportedDocument {
  id?: DocumentId;
  paymentDate?: string;
  protocol?: string;
  fileName?: string;
  sentOn?: string;
  /** `listaSegnalazioniDocumento/segnalazione`: the reports on the whole document, as text. */
  reports: string[];
  lines: ReportedExpenseLine[];
  refundedLines: ReportedExpenseLine[];
}

/** The owner part of the single-document and query services: codice fiscale already encrypted. */
export type EncryptedSender = Sender<EncryptedTaxCode>;

const asArray = <T>(value: T | T[] | undefined | null): T[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
const text = answerText;
const decimal = (value: unknown) => Number(text(value)).toFixed(2);

const toStsDate = (isoDate: string) => {
  const [year, month, day] = isoDate.split('-');
  return `${day}-${month}-${year}`;
};

function ownerArgs(sender: EncryptedSender | undefined) {
  if (!sender) return undefined;
  if (sender.kind === 'professional') return { cfProprietario: sender.taxCode.encrypted };
  return {
    codiceRegione: sender.regionCode,
    codiceAsl: sender.aslCode,
    codiceSSA: sender.ssaCode,
    ...(sender.taxCode ? { cfProprietario: sender.taxCode.encrypted } : {}),
  };
}

const documentIdArgs = (id: DocumentId) => ({
  pIva: id.vatNumber,
  dataEmissione: id.issueDate,
  numDocumentoFiscale: { dispositivo: id.device, numDocumento: id.number },
});

const messagesOf = (list: unknown): StsMessage[] =>
  asArray((list as { messaggio?: unknown } | undefined)?.messaggio).map((message) => {
    const m = message as Record<string, unknown>;
    return { code: text(m.codice), description: text(m.descrizione), type: text(m.tipo) };
  });

/** `idDocumentoFiscale` of an answer, as our document id. */
function documentIdFrom(id: Record<string, unknown>): DocumentId {
  const number = (id.numDocumentoFiscale ?? {}) as Record<string, unknown>;
  return {
    vatNumber: vatNumberText(id.pIva),
    issueDate: text(id.dataEmissione),
    device: Number(text(number.dispositivo)),
    number: text(number.numDocumento),
  };
}

/** What `documentoFiscale` says of the document in both InterrogazionePuntuale and DettaglioSegnalazione. */
function storedDocumentFields(stored: Record<string, unknown>) {
  const id = stored.idDocumentoFiscale as Record<string, unknown> | undefined;
  return {
    ...(id ? { id: documentIdFrom(id) } : {}),
    ...(stored.dataPagamento ? { paymentDate: text(stored.dataPagamento) } : {}),
    ...(stored.protocollo ? { protocol: text(stored.protocollo) } : {}),
    ...(stored.nomeFile ? { fileName: text(stored.nomeFile) } : {}),
    ...(stored.dataInvio ? { sentOn: text(stored.dataInvio) } : {}),
  };
}

/**
 * The numbered codes of the upload table (002–114: pincode, user, owner, delegation) name the same
 * credential problems wherever they appear, so a message or notice carrying one is read with that
 * table (inferred: the query and receipt specs do not list codes of their own).
 */
const isCredentialCode = (code: string) =>
  /^\d{3}$/.test(code.trim()) && lookupStsCode(code, 'upload-result').class === 'credential';

/** A message that says the credential (not the document) is wrong stops the credential. */
function credentialFailureIn(messages: readonly StsMessage[]) {
  for (const message of messages) {
    if (isCredentialCode(message.code))
      return failureFromCode(message.code, message.description, 'upload-result');
    const entry = lookupStsCode(message.code, 'message', {
      text: message.description,
      messageType: message.type,
    });
    if (entry.class === 'credential') return failureFromCode(message.code, message.description, 'message');
  }
  return undefined;
}

/**
 * Talks to every Sistema TS 730 service for one credential, over SOAP clients built by node-soap
 * from the official WSDLs. Every call returns an `StsResult`: never throws for anything the STS or
 * the network did.
 */
export function createStsClient(options: StsClientOptions) {
  const variant = options.variant ?? 'standard';
  const transport = createSoapTransport({
    ...(options.auth ? { basicAuth: options.auth } : {}),
    ...(options.tls ? { tls: options.tls } : {}),
    ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    ...(options.responseTimeoutMs ? { responseTimeoutMs: options.responseTimeoutMs } : {}),
  });
  const clients = new Map<StsService, Promise<soap.Client>>();
  const optional = options.optional1 ? { opzionale1: options.optional1 } : {};
  const clock = options.clock ?? systemClock;

  /** The wait if the answer is "not ready"; computed first, so that bad input throws before any call. */
  const waitFor = (asking: ReceiptAsking): ReceiptWait =>
    receiptWait({
      ...(asking.attempt !== undefined ? { attempt: asking.attempt } : {}),
      ...(asking.uploadedAt ? { uploadAgeMs: clock().getTime() - asking.uploadedAt.getTime() } : {}),
    });

  /** A receipt call that gave nothing: "not ready yet" or final, by the one rule of receipt-readiness.ts. */
  function withoutReceipt(
    notices: StsNotice[],
    asking: ReceiptAsking,
    wait: ReceiptWait,
  ): ReceiptNotReady | ReceiptNotAvailable {
    const basis = notReadyBasis(notices, asking.lastKnownState);
    return basis
      ? { available: false, notReady: true, basis, wait, notices }
      : { available: false, notReady: false, notices };
  }

  function clientFor(service: StsService): Promise<soap.Client> {
    let client = clients.get(service);
    if (!client) {
      client = soap.createClientAsync(wsdlPath(service), {
        httpClient: transport as unknown as soap.IHttpClient,
        endpoint: endpointUrl(options.baseUrl, variant, service),
      });
      // A WSDL that failed to load is tried again on the next call, not cached as a failure.
      client.catch(() => clients.delete(service));
      clients.set(service, client);
    }
    return client;
  }

  /** Calls `method` and hands back node-soap's parsed answer, or the failure it ended in. */
  async function call(
    service: StsService,
    method: string,
    args: unknown,
    callOptions: Record<string, unknown> = {},
  ): Promise<StsResult<Record<string, unknown>>> {
    // Uploads and document operations change the STS archive; queries and receipts do not.
    const idempotent = service !== 'upload' && service !== 'singleDocument';
    assertSealedPincode(pincodeIn(args));
    try {
      const client = await clientFor(service);
      const [result] = (await client[`${method}Async`](args, callOptions)) as [
        Record<string, unknown> | null,
      ];
      return succeed(result ?? {});
    } catch (error) {
      return failWith(failureFromError(error, { idempotent }));
    }
  }

  return {
    /** `inviaFileMtom`: one zip, answered with a reception protocol (processing comes later). */
    async uploadFile(request: UploadRequest): Promise<StsResult<UploadReceipt>> {
      const mtom = (request.transfer ?? 'mtom') === 'mtom';
      const contentId = `${randomUUID()}@sts`;
      // Keys in the schema's order: node-soap writes them as given.
      const args = {
        nomeFileAllegato: request.fileName,
        pincodeInvianteCifrato: request.encryptedPincode,
        datiProprietario: {
          ...(request.owner.regionCode ? { codiceRegione: request.owner.regionCode } : {}),
          ...(request.owner.aslCode ? { codiceAsl: request.owner.aslCode } : {}),
          ...(request.owner.ssaCode ? { codiceSSA: request.owner.ssaCode } : {}),
          ...(request.owner.taxCode ? { cfProprietario: request.owner.taxCode } : {}),
        },
        ...((request.optional1 ?? options.optional1)
          ? { opzionale1: request.optional1 ?? options.optional1 }
          : {}),
        documento: mtom ? xopInclude(contentId) : request.zip.toString('base64'),
      };
      const answer = await call(
        'upload',
        'inviaFileMtom',
        args,
        mtom ? { attachments: [{ contentId, mimeType: 'application/zip', body: request.zip }] } : {},
      );
      if (!answer.ok) return answer;
      const receipt = (answer.value.return ?? {}) as Record<string, unknown>;
      const code = text(receipt.codiceEsito);
      if (code !== '000')
        return failWith(failureFromCode(code, text(receipt.descrizioneEsito), 'upload-result'));
      return succeed({
        protocol: text(receipt.protocollo),
        receivedAt: text(receipt.dataAccoglienza),
        description: text(receipt.descrizioneEsito),
        sizeBytes: Number(text(receipt.dimensioneFileAllegato)),
        fileName: text(receipt.nomeFileAllegato),
      });
    },

    /**
     * `EsitoInvii`, by protocol or by date range (`YYYY-MM-DD`, sent as the STS's `dd-mm-yyyy`). An
     * upload still at stato 0/1 makes the answer `notReady`, with the wait before asking again.
     */
    async getOutcomes(query: OutcomeQuery): Promise<StsResult<OutcomeAnswer>> {
      const wait = waitFor(query);
      const input = {
        pinCode: query.encryptedPincode,
        ...('protocol' in query
          ? { protocollo: query.protocol }
          : { dataInizio: toStsDate(query.from), dataFine: toStsDate(query.to) }),
        ...optional,
      };
      const answer = await call('outcome', 'EsitoInvii', { DatiInputRichiesta: input });
      if (!answer.ok) return answer;
      const output = (answer.value.DatiOutputRichiesta ?? {}) as Record<string, unknown>;
      const notices = negativeNotices(output);
      const refusal = refusalIn(notices);
      if (refusal) return failWith(refusal);
      const positive = (output.esitiPositivi ?? {}) as Record<string, unknown>;
      const uploads = asArray(positive.dettagliEsito).map((detail) => {
        const d = detail as Record<string, unknown>;
        return {
          protocol: text(d.protocollo),
          sentAt: text(d.dataInvio),
          state: Number(text(d.stato)),
          description: text(d.descrizione),
          sent: Number(text(d.nInviati)),
          accepted: Number(text(d.nAccolti)),
          warnings: Number(text(d.nWarnings)),
          errors: Number(text(d.nErrori)),
        };
      });
      const found = text(output.esitoChiamata) === '0';
      const stillProcessing = uploads.filter((upload) => isStillProcessing(upload.state));
      return succeed(
        stillProcessing.length > 0
          ? {
              found,
              uploads,
              notices,
              notReady: true,
              stillProcessing: stillProcessing.map((upload) => upload.protocol),
              wait,
            }
          : { found, uploads, notices, notReady: false },
      );
    },

    /**
     * `DettaglioErrori`: the per-document errors of a processed upload, from the zipped CSV; or
     * "not ready yet" (`notReady`, with the wait), or nothing to give (final).
     */
    async getErrorDetail(query: ReceiptQuery): Promise<
      StsResult<
        | {
            available: true;
            errors: DocumentError[];
            /** The CSV files exactly as the STS sent them (inside its zip): the proof. */
            csvFiles: { name: string; content: Buffer }[];
          }
        | ReceiptNotReady
        | ReceiptNotAvailable
      >
    > {
      const wait = waitFor(query);
      const answer = await call('errorDetail', 'DettaglioErrori', {
        DatiInputRichiesta: { pinCode: query.encryptedPincode, protocollo: query.protocol, ...optional },
      });
      if (!answer.ok) return answer;
      const output = (answer.value.DatiOutputRichiesta ?? {}) as Record<string, unknown>;
      const notices = negativeNotices(output);
      const refusal = refusalIn(notices);
      if (refusal) return failWith(refusal);
      const csv = text(
        ((output.esitiPositivi ?? {}) as { dettagliEsito?: { csv?: unknown } }).dettagliEsito?.csv,
      );
      if (text(output.esitoChiamata) !== '0' || !csv) return succeed(withoutReceipt(notices, query, wait));
      try {
        // RIC15 §2.4: "CSV file(s)": every file's rows count.
        const entries = readZipEntries(Buffer.from(csv, 'base64'), {
          maxUncompressedBytes: RECEIPT_MAX_BYTES,
        });
        return succeed({
          available: true,
          errors: entries.flatMap((entry) => parseErrorDetailCsv(entry.content)),
          csvFiles: entries.map((entry) => ({ name: entry.entryName, content: entry.content })),
        });
      } catch (error) {
        return failWith(unexpectedAnswer('unreadable-error-detail', (error as Error).message));
      }
    },

    /** `RicevutaPdf`: the PDF receipt of an upload; or "not ready yet" (`notReady`, with the wait), or nothing to give. */
    async getPdfReceipt(
      query: ReceiptQuery,
    ): Promise<StsResult<{ available: true; pdf: Buffer } | ReceiptNotReady | ReceiptNotAvailable>> {
      const wait = waitFor(query);
      const answer = await call('pdfReceipt', 'RicevutaPdf', {
        DatiInputRichiesta: { pinCode: query.encryptedPincode, protocollo: query.protocol, ...optional },
      });
      if (!answer.ok) return answer;
      const output = (answer.value.DatiOutputRichiesta ?? {}) as Record<string, unknown>;
      const notices = negativeNotices(output);
      const refusal = refusalIn(notices);
      if (refusal) return failWith(refusal);
      const pdf = text(
        ((output.esitiPositivi ?? {}) as { dettagliEsito?: { pdf?: unknown } }).dettagliEsito?.pdf,
      );
      if (text(output.esitoChiamata) !== '0' || !pdf) return succeed(withoutReceipt(notices, query, wait));
      return succeed({ available: true, pdf: Buffer.from(pdf, 'base64') });
    },

    /**
     * The single-document service: `Inserimento`, `Variazione`, `Rimborso` or `Cancellazione`,
     * by the document's operation. The body is built (and validated) by `buildSingleDocumentRequest`.
     */
    async sendDocument(request: {
      encryptedPincode: string;
      sender?: EncryptedSender;
      document: ExpenseDocument;
    }): Promise<StsResult<DocumentOutcome>> {
      const body = buildSingleDocumentRequest({
        header: {
          ...(options.optional1 ? { optional1: options.optional1 } : {}),
          encryptedPincode: request.encryptedPincode,
          ...(request.sender ? { sender: request.sender } : {}),
        },
        document: request.document,
        ...(options.documentRules ? { rules: options.documentRules } : {}),
      });
      const method = SINGLE_DOCUMENT_METHODS[request.document.operation];
      const answer = await call('singleDocument', method, { _xml: body.xml });
      if (!answer.ok) return answer;
      const messages = messagesOf(answer.value.listaMessaggi);
      const credentialFailure = credentialFailureIn(messages);
      if (credentialFailure) return failWith(credentialFailure);
      const code = text(answer.value.esitoChiamata);
      const outcome = code === '0' ? 'accepted' : code === '2' ? 'accepted-with-warnings' : 'rejected';
      const protocol = text(answer.value.protocollo);
      const blocking = messages.filter((m) => /^[ES]/i.test(m.code) || m.type.toUpperCase() === 'E');
      const alreadyPresent =
        outcome === 'rejected' &&
        blocking.length > 0 &&
        blocking.every((m) => m.code.toUpperCase() === ALREADY_PRESENT);
      return succeed({ outcome, ...(protocol ? { protocol } : {}), messages, alreadyPresent });
    },

    /** `InterrogazionePuntuale`: what the STS holds for one document, whichever way it was sent. */
    async queryDocument(query: {
      encryptedPincode: string;
      sender?: EncryptedSender;
      documentId: DocumentId;
    }): Promise<StsResult<{ found: boolean; document?: StoredDocument; messages: StsMessage[] }>> {
      const owner = ownerArgs(query.sender);
      const answer = await call('pointQuery', 'InterrogazionePuntuale', {
        ...optional,
        pincode: query.encryptedPincode,
        ...(owner ? { Proprietario: owner } : {}),
        idDocumentoFiscale: documentIdArgs(query.documentId),
      });
      if (!answer.ok) return answer;
      const messages = messagesOf(answer.value.listaMessaggi);
      const credentialFailure = credentialFailureIn(messages);
      if (credentialFailure) return failWith(credentialFailure);
      const stored = answer.value.documentoFiscale as Record<string, unknown> | undefined;
      if (!stored) return succeed({ found: false, messages });
      const totals = (list: unknown) =>
        asArray(list).map((item) => {
          const t = item as Record<string, unknown>;
          return { expenseType: text(t.tipoSpesa), amount: decimal(t.importo) };
        });
      return succeed({
        found: true,
        messages,
        document: {
          ...storedDocumentFields(stored),
          totals: totals(stored.totaliVociSpesa),
          refundedTotals: totals(stored.totaliVociSpesaRimborsate),
          ...(stored.tipoInvio ? { sendType: text(stored.tipoInvio) } : {}),
          errors: asArray((stored.listaErroriDocumento as { errore?: unknown } | undefined)?.errore).map(
            (e) => {
              const m = e as Record<string, unknown>;
              return { code: text(m.codice), description: text(m.descrizione), type: text(m.tipo) };
            },
          ),
        },
      });
    },

    /** `ReportMensile`: the month's documents as the STS holds them (`report.csv` inside a zip). */
    async getMonthlyReport(query: {
      encryptedPincode: string;
      sender?: EncryptedSender;
      /** `YYYY-MM`. */
      month: string;
      /** `tipoEstrazione`, one character; the kit's sample uses `I`. */
      extraction?: string;
    }): Promise<StsResult<{ available: true; csv: string } | { available: false; messages: StsMessage[] }>> {
      const owner = ownerArgs(query.sender);
      const answer = await call('monthlyReport', 'ReportMensile', {
        ...optional,
        pincode: query.encryptedPincode,
        ...(owner ? { Proprietario: owner } : {}),
        annoMese: query.month.replace('-', ''),
        tipoEstrazione: query.extraction ?? 'I',
      });
      if (!answer.ok) return answer;
      const messages = messagesOf(answer.value.listaMessaggi);
      const credentialFailure = credentialFailureIn(messages);
      if (credentialFailure) return failWith(credentialFailure);
      const file = text(answer.value.fileCSV);
      if (!file) return succeed({ available: false, messages });
      try {
        const entries = readZipEntries(Buffer.from(file, 'base64'), {
          maxUncompressedBytes: RECEIPT_MAX_BYTES,
        });
        const report = entries.find((entry) => entry.entryName.toLowerCase() === 'report.csv') ?? entries[0]!;
        return succeed({ available: true, csv: report.content.toString('latin1') });
      } catch (error) {
        return failWith(unexpectedAnswer('unreadable-monthly-report', (error as Error).message));
      }
    },

    /**
     * `DettaglioSegnalazione`: what citizens reported about one document sent in their name, with the
     * document as the STS holds it. Nothing reported (WS96, inferred as for InterrogazionePuntuale):
     * `found: false`; a refusal (credential codes, anything else with `esitoChiamata` 1): a failure.
     */
    async getCitizenReportDetail(query: {
      encryptedPincode: string;
      /** `Proprietario` is required by this service's schema. */
      sender: EncryptedSender;
      documentId: DocumentId;
    }): Promise<
      StsResult<
        | { found: true; document: ReportedDocument; messages: StsMessage[] }
        | { found: false; messages: StsMessage[] }
      >
    > {
      // The schema puts opzionale1–3 last here, unlike InterrogazionePuntuale.
      const answer = await call('citizenReportDetail', 'DettaglioSegnalazione', {
        pincode: query.encryptedPincode,
        Proprietario: ownerArgs(query.sender),
        idDocumentoFiscale: documentIdArgs(query.documentId),
        ...optional,
      });
      if (!answer.ok) return answer;
      const messages = citizenReportMessages(answer.value);
      if (!messages.ok) return messages;
      const stored = answer.value.documentoFiscale as Record<string, unknown> | undefined;
      if (!stored) return succeed({ found: false, messages: messages.value });
      const reports = asArray(
        (stored.listaSegnalazioniDocumento as { segnalazione?: unknown } | undefined)?.segnalazione,
      ).map(text);
      return succeed({
        found: true,
        messages: messages.value,
        document: {
          ...storedDocumentFields(stored),
          reports,
          lines: asArray(stored.listaVociSpesa).map(reportedLine),
          refundedLines: asArray(stored.listaVociSpesaRimborsate).map(reportedLine),
        },
      });
    },

    /**
     * `ReportSegnalazioni`: the reports citizens filed in a period (`YYYY-MM-DD`, both included), as
     * the file the STS answers. Its layout is not published: rows come back raw and split, with the
     * file's own column names (see `readCitizenReportListFile`). Nothing in the period (WS96,
     * inferred): `available: false`.
     */
    async listCitizenReports(query: {
      encryptedPincode: string;
      sender: EncryptedSender;
      from: string;
      to: string;
    }): Promise<
      StsResult<
        | { available: true; file: CitizenReportListFile; messages: StsMessage[] }
        | { available: false; messages: StsMessage[] }
      >
    > {
      const answer = await call('citizenReportList', 'ReportSegnalazioni', {
        pincode: query.encryptedPincode,
        Proprietario: ownerArgs(query.sender),
        dataIniPeriodoSegnalazione: query.from,
        dataFinPeriodoSegnalazione: query.to,
        ...optional,
      });
      if (!answer.ok) return answer;
      const messages = citizenReportMessages(answer.value);
      if (!messages.ok) return messages;
      const file = text(answer.value.fileCSV);
      if (!file) return succeed({ available: false, messages: messages.value });
      try {
        return succeed({
          available: true,
          messages: messages.value,
          file: readCitizenReportListFile(Buffer.from(file, 'base64'), {
            maxUncompressedBytes: RECEIPT_MAX_BYTES,
          }),
        });
      } catch (error) {
        return failWith(unexpectedAnswer('unreadable-citizen-report-list', (error as Error).message));
      }
    },

    /** Closes the kept-alive connections. */
    close() {
      transport.close();
    },
  };
}

export type StsClient = ReturnType<typeof createStsClient>;

/** The pincode of a request, wherever the service's schema puts it. */
function pincodeIn(args: unknown): string {
  const a = args as Record<string, unknown> & { DatiInputRichiesta?: { pinCode?: unknown }; _xml?: unknown };
  if (typeof a._xml === 'string') return /<[\w]+:pincode>([^<]*)</.exec(a._xml)?.[1] ?? '';
  return String(a.pincodeInvianteCifrato ?? a.pincode ?? a.DatiInputRichiesta?.pinCode ?? '');
}

/** "IDENTIFICATIVO DOCUMENTO FISCALE GIA' PRESENTE" (docs/protocol.md §1.7, §1.9). */
const ALREADY_PRESENT = 'S017';

/** "LA RICERCA NON HA PRODOTTO RISULTATI" (docs/protocol.md §1.7): nothing found, not a refusal. */
const NOTHING_FOUND = 'WS96';

/**
 * The messages of a citizen-report answer (the query services' shape). A credential code fails the
 * call as everywhere; `esitoChiamata` 1 with a message other than "nothing found" is a refusal, read
 * with the message catalogue (WS99 transient, anything else a rejected request). Inferred: these
 * services publish no codes of their own (docs/protocol.md §1.10).
 */
function citizenReportMessages(answer: Record<string, unknown>): StsResult<StsMessage[]> {
  const messages = messagesOf(answer.listaMessaggi);
  const credentialFailure = credentialFailureIn(messages);
  if (credentialFailure) return failWith(credentialFailure);
  if (text(answer.esitoChiamata).trim() === '1') {
    const refusal = messages.find(
      (m) => m.code.toUpperCase() !== NOTHING_FOUND && lookupStsCode(m.code, 'message').class !== 'accepted',
    );
    if (refusal) return failWith(failureFromCode(refusal.code, refusal.description, 'message'));
  }
  return succeed(messages);
}

function reportedLine(item: unknown): ReportedExpenseLine {
  const line = item as Record<string, unknown>;
  return {
    expenseType: text(line.tipoSpesa),
    ...(line.importo === undefined || line.importo === null ? {} : { amount: decimal(line.importo) }),
    ...(line.segnalazioneImporto ? { amountReport: text(line.segnalazioneImporto) } : {}),
    ...(line.segnalazioneTipoVoceSpesa ? { expenseTypeReport: text(line.segnalazioneTipoVoceSpesa) } : {}),
  };
}

/** Error details and monthly reports are CSVs of a few MB at most; a larger inflation is refused. */
const RECEIPT_MAX_BYTES = 256 * 1024 * 1024;

const SINGLE_DOCUMENT_METHODS = {
  insert: 'Inserimento',
  update: 'Variazione',
  refund: 'Rimborso',
  cancel: 'Cancellazione',
} as const;

function negativeNotices(output: Record<string, unknown>): StsNotice[] {
  const negative = (output.esitiNegativi ?? {}) as { dettaglioEsitoNegativo?: unknown };
  return asArray(negative.dettaglioEsitoNegativo).map((notice) => {
    const n = notice as Record<string, unknown>;
    return { code: text(n.codice), description: text(n.descrizione) };
  });
}

/**
 * A negative notice that is about the credential (a wrong pincode…) fails the whole call, and one
 * that says the STS itself failed (WS99) is a failure to retry. Notices carry message codes (`WS…`),
 * so they are read in the message catalogue, not as the call's `esitoChiamata`.
 */
function refusalIn(notices: readonly StsNotice[]) {
  for (const notice of notices) {
    if (isCredentialCode(notice.code))
      return failureFromCode(notice.code, notice.description, 'upload-result');
    const entry = lookupStsCode(notice.code, 'message', { text: notice.description });
    if (entry.class === 'credential' || entry.class === 'transient') {
      return failureFromCode(notice.code, notice.description, 'message');
    }
  }
  return undefined;
}
