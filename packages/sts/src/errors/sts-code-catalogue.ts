/**
 * Every code the Sistema TS is known to answer, with what it means for a clinic and what to do.
 *
 * The same code means different things in different places ("2" is "processed correctly" as an
 * EsitoInvii `stato` but "accepted with warnings" as the single-document `esitoChiamata`; "0" is
 * "queued" as a `stato` and "accepted" elsewhere), so every entry belongs to one context: the
 * element and service it was read from. Sources are the tags of docs/protocol.md §0.
 */

/**
 * Where a code was read from:
 * - `upload-result`: `codiceEsito` of the batch upload (`inviaFileMtom`), e.g. `000`, `002`–`114`, `200`.
 * - `processing-status`: `stato` of an upload in `EsitoInvii` (0/1/2/3/5/9).
 * - `status-call`: `esitoChiamata` of `EsitoInvii` (0/1).
 * - `error-detail-call`: `esitoChiamata` of `DettaglioErrori` (0/1).
 * - `pdf-receipt-call`: `esitoChiamata` of `RicevutaPdf` (0/1).
 * - `document-call`: `esitoChiamata` of the single-document service `DocumentoSpesa730p` (0/1/2).
 * - `citizen-report-call`: `esitoChiamata` of the citizen-report services `DettaglioSegnalazione`
 *   and `ReportSegnalazioni` (0/1).
 * - `message`: a `codice` of a message: `listaMessaggi/messaggio` (single-document and query
 *   services), `CODICE ERRORE` of the `DettaglioErrori` CSV, `esitiNegativi/dettaglioEsitoNegativo`
 *   of the receipt services. E/S/W codes about one document, WS codes about the call.
 * - `fault`: a SOAP fault; the code is the `faultcode`, the text the `faultstring` (which is what
 *   tells faults apart).
 */
export const STS_CODE_CONTEXTS = [
  'upload-result',
  'processing-status',
  'status-call',
  'error-detail-call',
  'pdf-receipt-call',
  'document-call',
  'citizen-report-call',
  'message',
  'fault',
] as const;
export type StsCodeContext = (typeof STS_CODE_CONTEXTS)[number];

/**
 * What a code means for whoever handles it; a small closed set, each with one behaviour:
 * - `accepted`: final and positive (document acquired, call answered). Nothing to do.
 * - `processing`: received, outcome not final yet. Ask again later.
 * - `warning`: accepted, with a remark worth reading (W codes). Store it; no resend.
 * - `document`: this document was rejected for its content (E/S codes). Correct it and send it
 *   again; never resend it unchanged.
 * - `request`: the whole request or file was refused for its form (file name, zip, size, XML schema,
 *   owner data) before any document was judged. A fault of our software or configuration: don't
 *   retry as is, alert the engineers; the documents are not rejected and go again once it is fixed.
 * - `credential`: the credential (user, password, pincode, delegation) is not usable. Stop sending
 *   with it AT ONCE: repeated wrong logins disable the STS user (about 8 attempts, MED15 §1.2).
 * - `transient`: a problem on the STS side or of timing. Retry later with backoff.
 * - `not-found`: a query found nothing (the STS has no such document or upload).
 * - `unknown`: not in this catalogue and not classifiable by its prefix; code and text are kept as received.
 */
export const STS_CODE_CLASSES = [
  'accepted',
  'processing',
  'warning',
  'document',
  'request',
  'credential',
  'transient',
  'not-found',
  'unknown',
] as const;
export type StsCodeClass = (typeof STS_CODE_CLASSES)[number];

/**
 * Where `text` comes from:
 * - `official`: verbatim from an official Sogei/MEF document (spec table, kit).
 * - `observed`: verbatim from a real STS response quoted by a secondary source.
 * - `ours`: no source gives the wording; this is our own Italian summary, not what the STS sends.
 * - `received`: (lookups of unknown codes only) the text as the STS sent it.
 */
export type StsTextOrigin = 'official' | 'observed' | 'ours' | 'received';

export interface StsCodeEntry {
  context: StsCodeContext;
  /** The code as the STS writes it (`002`, `S017`); for faults, our own stable name of the fault. */
  code: string;
  /** The Italian text, verbatim when `textOrigin` is `official` or `observed`. */
  text: string;
  textOrigin: StsTextOrigin;
  /** Tag of docs/protocol.md §0 (and section) the entry rests on. */
  source: string;
  class: StsCodeClass;
  /** Cause and remedy for a clinic's operator. */
  explanation: { it: string; en: string };
}

/** A fault is recognised by its `faultstring` (and, for some, its `faultcode`). */
export interface StsFaultEntry extends StsCodeEntry {
  context: 'fault';
  matches(fault: { faultcode: string; faultstring: string }): boolean;
}

const SUSPENDED_IT = 'Gli invii con questa credenziale sono sospesi subito, per non far bloccare l’utenza.';
const SUSPENDED_EN =
  'Sending with this credential is paused at once, so that the STS does not lock the user.';
const OUR_SOFTWARE_IT =
  'È un problema del nostro software o della configurazione, non dei documenti: i tecnici vengono avvisati e i documenti saranno reinviati dopo la correzione.';
const OUR_SOFTWARE_EN =
  'This is a problem of our software or configuration, not of the documents: the engineers are alerted and the documents will be sent again once it is fixed.';

/** One catalogue entry; the helpers below fix the context (and defaults) of their table. */
const entry = (
  context: StsCodeContext,
  code: string,
  text: string,
  cls: StsCodeClass,
  source: string,
  it: string,
  en: string,
  origin: StsTextOrigin = 'official',
): StsCodeEntry => ({ context, code, text, textOrigin: origin, source, class: cls, explanation: { it, en } });

const upload = (
  code: string,
  text: string,
  cls: StsCodeClass,
  it: string,
  en: string,
  origin: StsTextOrigin = 'official',
  source = 'ASYNC25 §4.7 (same in ASYNC21)',
): StsCodeEntry => entry('upload-result', code, text, cls, source, it, en, origin);

const UPLOAD_RESULTS: StsCodeEntry[] = [
  upload(
    '000',
    "Il file è in attesa di elaborazione, per conoscerne l'esito è necessario verificare la ricevuta",
    'processing',
    'Il file è stato ricevuto e attende l’elaborazione. L’esito dei singoli documenti arriva con la ricevuta, che il sistema controlla da sé: non serve fare nulla.',
    'The file was received and is waiting to be processed. The outcome of each document comes with the receipt, which the system checks by itself: nothing to do.',
    'observed',
    'ODOO wizards.py (production response, 25/12/2016); the official table lists only errors',
  ),
  upload(
    '002',
    'PINCODE NON DECIFRABILE',
    'credential',
    `Il Sistema TS non riesce a decifrare il pincode inviato: di solito è stato cifrato con un certificato sbagliato oppure il pincode salvato è danneggiato. ${SUSPENDED_IT} Verificare il pincode della credenziale (e, se succede a tutte le credenziali, il certificato SanitelCF configurato), poi ripetere il test della credenziale.`,
    `Sistema TS cannot decrypt the pincode we sent: usually it was encrypted with the wrong certificate, or the stored pincode is damaged. ${SUSPENDED_EN} Check the credential's pincode (and, if every credential is affected, the configured SanitelCF certificate), then run the credential test again.`,
  ),
  upload(
    '003',
    'UTENTE NON VALIDO O NON PRESENTE',
    'credential',
    `L’utente usato per l’accesso non esiste o non è valido sul Sistema TS. ${SUSPENDED_IT} Controllare il codice utente (per medici e professionisti è il codice fiscale, non il nickname del portale) e aggiornare la credenziale.`,
    `The user used to log in does not exist or is not valid on Sistema TS. ${SUSPENDED_EN} Check the user code (for doctors and professionals it is their codice fiscale, not the portal nickname) and update the credential.`,
  ),
  upload(
    '004',
    'CODICE FISCALE DEL MEDICO NON CORRISPONDENTE A QUELLO UTILIZZATO IN FASE DI AUTENTICAZIONE',
    'credential',
    `Il codice fiscale del medico indicato nell’invio non è quello dell’utente che ha effettuato l’accesso. ${SUSPENDED_IT} Verificare che la credenziale appartenga allo stesso professionista a cui sono intestati i documenti.`,
    `The doctor's codice fiscale in the submission is not that of the user who logged in. ${SUSPENDED_EN} Check that the credential belongs to the professional the documents are issued by.`,
  ),
  upload(
    '005',
    "PINCODE DEL MEDICO ERRATO O NON PIU' ATTIVO",
    'credential',
    `Il pincode è errato oppure non è più attivo (ad esempio ne è stato stampato uno nuovo dal portale). ${SUSPENDED_IT} Inserire nella credenziale il pincode attuale (Profilo utente → Stampa pincode sul portale Sistema TS).`,
    `The pincode is wrong or no longer active (for example a new one was printed from the portal). ${SUSPENDED_EN} Enter the current pincode in the credential (Profilo utente → Stampa pincode on the Sistema TS portal).`,
  ),
  upload(
    '006',
    'MEDICO NON ATTIVO O CF ERRATO',
    'credential',
    `Il medico risulta non attivo sul Sistema TS, oppure il codice fiscale è errato. ${SUSPENDED_IT} Verificare il codice fiscale nella credenziale; se è corretto, rivolgersi all’ente che ha rilasciato le credenziali (Ordine o ASL).`,
    `The doctor is not active on Sistema TS, or the codice fiscale is wrong. ${SUSPENDED_EN} Check the codice fiscale in the credential; if it is right, contact the body that issued the credentials (medical board or ASL).`,
  ),
  upload(
    '010',
    'IL CF PROPRIETARIO È DIVERSO DA QUELLO UTILIZZATO IN FASE DI AUTENTICAZIONE',
    'credential',
    `Il codice fiscale del titolare dei dati (proprietario) non coincide con quello dell’utente che ha effettuato l’accesso. ${SUSPENDED_IT} Controllare che i dati del titolare configurati corrispondano alla credenziale, oppure inviare tramite una delega attiva.`,
    `The owner's codice fiscale (cfProprietario) differs from the one of the user who logged in. ${SUSPENDED_EN} Check that the configured owner data match the credential, or send through an active delegation.`,
  ),
  upload(
    '101',
    'IL CAMPO NOMEFILEALLEGATO DEVE ESSERE COMPRESO TRA 6 E 60 CARATTERI E TERMINARE IN .ZIP: IL FILE NON E’ STATO ACCOLTO',
    'request',
    `Il nome del file inviato non rispetta le regole (da 6 a 60 caratteri, con estensione .zip) e il file non è stato accettato. ${OUR_SOFTWARE_IT}`,
    `The file name broke the rules (6 to 60 characters, ending in .zip) and the file was not accepted. ${OUR_SOFTWARE_EN}`,
  ),
  upload(
    '102',
    "L'ALLEGATO NON È UN FILE DI TIPO ZIP VALIDO: IL FILE NON È STATO ACCOLTO",
    'request',
    `L’allegato non è un file zip valido e non è stato accettato. ${OUR_SOFTWARE_IT}`,
    `The attachment is not a valid zip file and was not accepted. ${OUR_SOFTWARE_EN}`,
  ),
  upload(
    '103',
    "L'ALLEGATO È VUOTO: IL FILE NON È STATO ACCOLTO",
    'request',
    `L’allegato è arrivato vuoto e non è stato accettato. ${OUR_SOFTWARE_IT}`,
    `The attachment arrived empty and was not accepted. ${OUR_SOFTWARE_EN}`,
  ),
  upload(
    '104',
    'PINCODE ERRATO',
    'credential',
    `Il pincode non è corretto. ${SUSPENDED_IT} Inserire nella credenziale il pincode attuale stampato dal portale Sistema TS.`,
    `The pincode is wrong. ${SUSPENDED_EN} Enter the current pincode printed from the Sistema TS portal in the credential.`,
  ),
  upload(
    '105',
    'INVIO PER CONTO IN ASSENZA DI DELEGA ATTIVA',
    'credential',
    `Si sta inviando per conto di un altro soggetto, ma sul Sistema TS non risulta una delega attiva. ${SUSPENDED_IT} Far attivare o rinnovare la delega dal titolare sul portale Sistema TS, oppure inviare con le credenziali del titolare.`,
    `We are sending on someone else's behalf, but Sistema TS has no active delegation for it. ${SUSPENDED_EN} Have the owner activate or renew the delegation on the Sistema TS portal, or send with the owner's own credential.`,
  ),
  upload(
    '106',
    'INVIO IN PROPRIO IN PRESENZA DI DELEGA ATTIVA',
    'credential',
    `Il titolare sta inviando in proprio, ma ha una delega attiva a un altro soggetto: finché la delega è attiva, invia il delegato. ${SUSPENDED_IT} Revocare la delega sul portale Sistema TS oppure usare le credenziali del delegato.`,
    `The owner is sending in their own name but has an active delegation to someone else: while it is active, the delegate sends. ${SUSPENDED_EN} Revoke the delegation on the Sistema TS portal, or use the delegate's credential.`,
  ),
  upload(
    '107',
    'UTENTE NON RICONOSCIUTO',
    'credential',
    `Il Sistema TS non riconosce l’utente. ${SUSPENDED_IT} Controllare il codice utente della credenziale (codice fiscale per i professionisti, codice di 8 caratteri per le strutture).`,
    `Sistema TS does not recognise the user. ${SUSPENDED_EN} Check the credential's user code (codice fiscale for professionals, the 8-character code for structures).`,
  ),
  upload(
    '108',
    'LA DIMENSIONE DEL FILE ALLEGATO SUPERA LA SOGLIA CONSENTITA',
    'request',
    `Il file supera la dimensione massima consentita (5 MB) e non è stato accettato. ${OUR_SOFTWARE_IT}`,
    `The file is larger than allowed (5 MB) and was not accepted. ${OUR_SOFTWARE_EN}`,
  ),
  upload(
    '109',
    'DATI PROPRIETARIO FORMALMENTE ERRATI',
    'request',
    'I dati del titolare inviati (codice regione, codice ASL, codice struttura o codice fiscale) non hanno un formato valido; il file non è stato accettato. Correggere i dati del titolare nella configurazione della credenziale: i documenti saranno reinviati dopo la correzione.',
    "The owner data sent (region, ASL or structure code, or codice fiscale) are not in a valid format; the file was not accepted. Correct the owner data in the credential's configuration: the documents will be sent again after the correction.",
  ),
  upload(
    '110',
    'IL CF PROPRIETARIO È DIVERSO DAL CF DELLA USER',
    'credential',
    `Il codice fiscale del titolare non coincide con quello dell’utente della credenziale. ${SUSPENDED_IT} Verificare che titolare e credenziale siano della stessa persona, oppure usare una delega.`,
    `The owner's codice fiscale differs from the credential user's. ${SUSPENDED_EN} Check that owner and credential are the same person, or use a delegation.`,
  ),
  upload(
    '111',
    'UTENTE AUTENTICATO ENTRATE NON ATTIVO',
    'credential',
    `L’utente Entratel con cui si è effettuato l’accesso non risulta attivo. ${SUSPENDED_IT} Verificare l’abilitazione Entratel presso l’Agenzia delle Entrate.`,
    `The Entratel user who logged in is not active. ${SUSPENDED_EN} Check the Entratel registration with the Agenzia delle Entrate.`,
  ),
  upload(
    '112',
    'INTERMEDIARIO ENTRATE NON AUTORIZZATO',
    'credential',
    `L’intermediario Entratel non è autorizzato a inviare i dati di questo titolare. ${SUSPENDED_IT} Il titolare deve registrare la delega all’intermediario sul portale Sistema TS.`,
    `The Entratel intermediary is not authorised to send this owner's data. ${SUSPENDED_EN} The owner must register the delegation to the intermediary on the Sistema TS portal.`,
  ),
  upload(
    '113',
    'PINCODE INCARICANTE ENTRATE NON VALIDO',
    'credential',
    `Il PIN Entratel dell’intermediario non è valido (sono gli 8 caratteri nelle posizioni dispari del pincode della busta Entratel, inviati in chiaro). ${SUSPENDED_IT} Correggere il PIN nella credenziale.`,
    `The intermediary's Entratel PIN is not valid (it is the 8 characters at the odd positions of the Entratel envelope pincode, sent in clear). ${SUSPENDED_EN} Correct the PIN in the credential.`,
  ),
  upload(
    '114',
    'INCARICANTE ENTRATE NON ASSOCIATO',
    'credential',
    `L’utente incaricato non risulta associato all’intermediario Entratel indicato (codice fiscale-sede). ${SUSPENDED_IT} Verificare l’incarico presso l’Agenzia delle Entrate e il codice fiscale-sede configurato.`,
    `The appointed user is not associated with the Entratel intermediary given (codice fiscale-sede). ${SUSPENDED_EN} Check the appointment with the Agenzia delle Entrate and the configured codice fiscale-sede.`,
  ),
  upload(
    '200',
    "ERRORE NELL'APPLICAZIONE: CONTATTARE L'ASSISTENZA",
    'transient',
    'Errore interno del Sistema TS: il file non è stato acquisito. Il sistema riprova da sé più tardi; se l’errore continua per ore, contattare l’assistenza del Sistema TS.',
    'Internal error of Sistema TS: the file was not taken in. The system retries by itself later; if the error goes on for hours, contact the Sistema TS help desk.',
  ),
];

const PROCESSING_STATUSES: StsCodeEntry[] = [
  entry(
    'processing-status',
    '0',
    "Il file e' in fase di elaborazione",
    'processing',
    'RIC15 §2.6',
    'Il file è in coda per l’elaborazione. Il sistema ricontrolla da sé più tardi.',
    'The file is queued for processing. The system checks again by itself later.',
  ),
  entry(
    'processing-status',
    '1',
    'In corso di elaborazione',
    'processing',
    'RIC15 §2.6',
    'Il Sistema TS sta elaborando il file. Il sistema ricontrolla da sé più tardi.',
    'Sistema TS is processing the file. The system checks again by itself later.',
  ),
  entry(
    'processing-status',
    '2',
    'File elaborato correttamente',
    'accepted',
    'RIC15 §2.6',
    'Il file è stato elaborato e tutti i documenti sono stati acquisiti.',
    'The file was processed and every document was taken in.',
  ),
  entry(
    'processing-status',
    '3',
    'File elaborato con errori',
    'document',
    'RIC15 §2.6',
    'Il file è stato elaborato, ma alcuni documenti sono stati scartati o hanno segnalazioni. L’esito di ogni documento è nel dettaglio errori, che il sistema scarica da sé: i documenti scartati vanno corretti e reinviati, gli altri sono acquisiti.',
    'The file was processed, but some documents were rejected or carry remarks. Each document’s outcome is in the error detail, which the system downloads by itself: rejected documents must be corrected and sent again, the others are taken in.',
  ),
  entry(
    'processing-status',
    '5',
    'File scartato in fase di Elaborazione',
    'request',
    'RIC15 §2.6; observed in ODOO wizards.py',
    `Il file intero è stato scartato durante l’elaborazione e nessun documento è stato acquisito; il motivo è nella ricevuta PDF. ${OUR_SOFTWARE_IT}`,
    `The whole file was rejected during processing and no document was taken in; the reason is in the PDF receipt. ${OUR_SOFTWARE_EN}`,
  ),
  entry(
    'processing-status',
    '9',
    'File scartato in fase di Accoglienza',
    'request',
    'RIC15 §2.6',
    `Il file intero è stato scartato al momento della ricezione e nessun documento è stato acquisito; il motivo è nella ricevuta. ${OUR_SOFTWARE_IT}`,
    `The whole file was rejected on reception and no document was taken in; the reason is in the receipt. ${OUR_SOFTWARE_EN}`,
  ),
];

const RECEIPT_RETRY_IT =
  'Il motivo è nei codici di errore restituiti insieme (esitiNegativi). Se dicono che il risultato non è ancora pronto, o se il file era ancora in elaborazione, il sistema lo richiede da sé più tardi; altrimenti la risposta è definitiva.';
const RECEIPT_RETRY_EN =
  'The reason is in the error codes returned with it (esitiNegativi). If they say the result is not ready yet, or the file was still being processed, the system asks again by itself later; otherwise the answer is final.';

const CALL_OUTCOMES: StsCodeEntry[] = [
  entry(
    'status-call',
    '0',
    'è presente almeno un invio',
    'accepted',
    'RIC15 §2.6',
    'La richiesta dell’esito ha trovato l’invio: lo stato di elaborazione è indicato per ciascun file.',
    'The outcome query found the upload: each file’s processing status is given.',
  ),
  entry(
    'status-call',
    '1',
    'riscontrato errore o non presenti invii',
    'transient',
    'RIC15 §2.6',
    `La richiesta dell’esito non ha dato risultati: errore oppure nessun invio trovato. ${RECEIPT_RETRY_IT}`,
    `The outcome query gave nothing: an error, or no upload found. ${RECEIPT_RETRY_EN}`,
  ),
  entry(
    'error-detail-call',
    '0',
    'il csv è scaricabile',
    'accepted',
    'RIC15 §2.4',
    'Il dettaglio degli errori (CSV) è disponibile ed è stato scaricato.',
    'The error detail (CSV) is available and was downloaded.',
  ),
  entry(
    'error-detail-call',
    '1',
    'riscontrato errore o csv non presente',
    'transient',
    'RIC15 §2.4',
    `Il dettaglio degli errori non è disponibile: errore oppure CSV non (ancora) presente. ${RECEIPT_RETRY_IT}`,
    `The error detail is not available: an error, or no CSV (yet). ${RECEIPT_RETRY_EN}`,
  ),
  entry(
    'pdf-receipt-call',
    '0',
    'il pdf è scaricabile',
    'accepted',
    'RIC15 §2.2',
    'La ricevuta PDF è disponibile ed è stata scaricata.',
    'The PDF receipt is available and was downloaded.',
  ),
  entry(
    'pdf-receipt-call',
    '1',
    'riscontrato errore',
    'transient',
    'RIC15 §2.2',
    `La ricevuta PDF non è disponibile. ${RECEIPT_RETRY_IT}`,
    `The PDF receipt is not available. ${RECEIPT_RETRY_EN}`,
  ),
  entry(
    'document-call',
    '0',
    'Documento acquisito',
    'accepted',
    'DENT ADR §3 citing the sync spec v1.3 §3.3 (primary text not seen)',
    'Il documento è stato acquisito dal Sistema TS, che ha assegnato un numero di protocollo.',
    'Sistema TS took the document in and gave it a protocol number.',
    'ours',
  ),
  entry(
    'document-call',
    '1',
    'Documento scartato: errore bloccante',
    'document',
    'DENT ADR §3 citing the sync spec v1.3 §3.3; observed with S017 in X-RUST',
    'Il documento non è stato acquisito (nessun protocollo). Il motivo è nei messaggi restituiti: correggere il documento e reinviarlo. Se un messaggio riguarda le credenziali, vale quello.',
    'The document was not taken in (no protocol). The reason is in the messages returned: correct the document and send it again. If a message is about the credential, that one decides.',
    'ours',
  ),
  entry(
    'document-call',
    '2',
    'Documento acquisito con segnalazioni',
    'warning',
    'DENT ADR §3 citing the sync spec v1.3 §3.3; observed with W008 in X-RUST',
    'Il documento è stato acquisito (con protocollo), con segnalazioni da leggere nei messaggi restituiti. Non va reinviato.',
    'The document was taken in (with a protocol), with remarks to read in the messages returned. Do not send it again.',
    'ours',
  ),
];

/** The kit and every source are silent on these services' values: the texts are ours (docs/protocol.md §1.10). */
const CITIZEN_REPORT_SOURCE =
  'KIT20 WS_Segnalazioni_Cittadino XSDs (esitoChiamata is a bare xs:string); values inferred from the query services (X-RUST)';

const CITIZEN_REPORT_OUTCOMES: StsCodeEntry[] = [
  entry(
    'citizen-report-call',
    '0',
    'Segnalazioni presenti',
    'accepted',
    CITIZEN_REPORT_SOURCE,
    'Il Sistema TS ha restituito le segnalazioni dei cittadini richieste: il dettaglio del documento segnalato o il file delle segnalazioni del periodo.',
    'Sistema TS returned the citizen reports asked for: the detail of the reported document, or the file of the period’s reports.',
    'ours',
  ),
  entry(
    'citizen-report-call',
    '1',
    'Nessuna segnalazione o richiesta non accolta',
    'not-found',
    CITIZEN_REPORT_SOURCE,
    'Il Sistema TS non ha restituito segnalazioni: di solito non ce ne sono per quel documento o periodo (messaggio WS96). Se i messaggi restituiti indicano un altro motivo, vale quello: un problema di credenziali ferma la credenziale, gli altri vanno controllati nei parametri della richiesta.',
    'Sistema TS returned no citizen reports: usually there are none for that document or period (message WS96). If the messages returned give another reason, that one decides: a credential problem stops the credential, the others mean checking the request parameters.',
    'ours',
  ),
];

const message = (
  code: string,
  text: string,
  cls: StsCodeClass,
  origin: StsTextOrigin,
  source: string,
  it: string,
  en: string,
): StsCodeEntry => entry('message', code, text, cls, source, it, en, origin);

const MESSAGES: StsCodeEntry[] = [
  message(
    '0',
    'Operazione eseguita correttamente',
    'accepted',
    'observed',
    'X-RUST (test environment, 2026)',
    'L’operazione è andata a buon fine: non serve fare nulla.',
    'The operation succeeded: nothing to do.',
  ),
  message(
    'S011',
    'IL CF DEL CITTADINO RISULTA FORMALMENTE ERRATO',
    'document',
    'observed',
    'real DettaglioErrori CSV (odoo examples, 2016)',
    'Il codice fiscale del paziente non è valido per il Sistema TS e il documento è stato scartato. Controllare il codice fiscale sulla tessera sanitaria del paziente, correggerlo e reinviare il documento. Se il codice è certamente giusto, avvisare i tecnici: può dipendere dalla cifratura.',
    "The patient's codice fiscale is not valid for Sistema TS and the document was rejected. Check the codice fiscale on the patient's health card, correct it and send the document again. If the code is certainly right, alert the engineers: the encryption may be at fault.",
  ),
  message(
    'S017',
    "IDENTIFICATIVO DOCUMENTO FISCALE GIA' PRESENTE",
    'document',
    'observed',
    'X-RUST (test environment, 2026)',
    'Sul Sistema TS c’è già un documento con la stessa partita IVA, data e numero. Se era un reinvio dopo una risposta persa, il documento risulta già consegnato. Se invece si vogliono cambiare i dati, va inviata una variazione, non un nuovo inserimento.',
    'Sistema TS already holds a document with the same VAT number, date and number. If this was a resend after a lost answer, the document is already delivered. If the data are meant to change, send an update, not a new insert.',
  ),
  message(
    'S035',
    'Data di pagamento in un periodo per cui l’invio è chiuso',
    'document',
    'ours',
    'X-DOC (payment in a closed year); wording not published',
    'La data di pagamento cade in un periodo per cui i termini di invio sono chiusi e il documento è stato scartato. Verificare la data di pagamento; se è corretta, il documento non può più essere inviato così: rivolgersi al commercialista.',
    'The payment date falls in a period whose sending window is closed, and the document was rejected. Check the payment date; if it is right, the document can no longer be sent this way: ask the accountant.',
  ),
  message(
    'S909',
    'DATA DI EMISSIONE O DI PAGAMENTO SUCCESSIVA ALLA DATA DI INVIO',
    'document',
    'ours',
    'ours: no STS code or wording for a future date is public (docs/protocol.md §4.3); our validation and the simulator use this code',
    'La data di emissione o di pagamento è successiva al giorno dell’invio (ora italiana) e il documento è stato scartato: non si può inviare un documento non ancora emesso o un pagamento non ancora avvenuto. Correggere la data, oppure inviare il documento quando il pagamento è avvenuto.',
    'The issue or payment date is after the day of sending (Italian time) and the document was rejected: a document not yet issued or a payment not yet made cannot be sent. Correct the date, or send the document once the payment has been made.',
  ),
  message(
    'W003',
    'IL CF CITTADINO NON PRESENTE IN ARCHIVIO',
    'warning',
    'observed',
    'psicogest (blog, ?p=682)',
    'Il documento è stato acquisito, ma il codice fiscale del paziente non risulta nell’anagrafe del Sistema TS. Controllare che sia scritto correttamente; se lo è, non serve fare nulla.',
    "The document was taken in, but the patient's codice fiscale is not in the Sistema TS register. Check that it is spelled right; if it is, nothing to do.",
  ),
  message(
    'W008',
    "IL DOCUMENTO E' STATO TRASMESSO OLTRE I TERMINI PREVISTI",
    'warning',
    'observed',
    'X-RUST (test environment, 2026)',
    'Il documento è stato acquisito, ma dopo la scadenza prevista: potrebbe non comparire nella dichiarazione precompilata del paziente e sono possibili sanzioni. Inviare i documenti entro i termini.',
    "The document was taken in, but after the deadline: it may not appear in the patient's pre-filled return, and penalties are possible. Send documents on time.",
  ),
  message(
    'W010',
    "IL DOCUMENTO E' STATO ANNULLATO IN PRECEDENZA",
    'warning',
    'observed',
    'X-RUST (test environment, 2026)',
    'Il documento era già stato cancellato in precedenza: la cancellazione è già avvenuta e non serve fare nulla.',
    'The document had already been cancelled: the cancellation is done, nothing to do.',
  ),
  message(
    'W014',
    'Più documenti per lo stesso paziente nello stesso giorno',
    'warning',
    'ours',
    'X-DOC (same patient, same day); wording not published',
    'Il documento è stato acquisito, con una segnalazione: per lo stesso paziente risultano più documenti nello stesso giorno. Verificare che non sia un doppione; se è corretto, non serve fare nulla.',
    'The document was taken in with a remark: the same patient has several documents on the same day. Check that it is not a duplicate; if it is right, nothing to do.',
  ),
  // WS15: UNCONFIRMED. No public source gives this code or any wording. docs/protocol.md §1.8 took it
  // from HaikuOezu/sistema-ts-sdk tests (commit 9c87efa), which could not be opened; the versions
  // that could be read neither use WS15 nor poll (issue 10 research §4). Kept as "not ready yet" on
  // the strength of that report; the client also infers "not ready" from a still-processing stato
  // (packages/sts/src/soap/receipt-readiness.ts).
  message(
    'WS15',
    'Ricevuta non ancora disponibile',
    'processing',
    'ours',
    'UNCONFIRMED code: docs/protocol.md §1.8 (reported from HaikuOezu/sistema-ts-sdk tests, commit 9c87efa, which could not be opened; no other public source); wording not published',
    'La ricevuta non è ancora pronta: il Sistema TS la sta preparando. Il sistema la richiede da sé più tardi; non serve fare nulla.',
    'The receipt is not ready yet: Sistema TS is still preparing it. The system asks again by itself later; nothing to do.',
  ),
  message(
    'WS37',
    'FILE SCARTATO, CONTROLLARE LA RICEVUTA PDF',
    'request',
    'observed',
    'ODOO wizards.py (production response to DettaglioErrori, 2016)',
    `Il file è stato scartato per intero e non c’è un dettaglio per documento: il motivo è nella ricevuta PDF. ${OUR_SOFTWARE_IT}`,
    `The whole file was rejected and there is no per-document detail: the reason is in the PDF receipt. ${OUR_SOFTWARE_EN}`,
  ),
  message(
    'WS46',
    'Richiesta di report rifiutata',
    'request',
    'ours',
    'X-RUST (report refusal); wording not published',
    'Il Sistema TS ha rifiutato la richiesta del report (ad esempio per un periodo non disponibile). Non riguarda i documenti inviati: controllare i parametri della richiesta.',
    'Sistema TS refused the report request (for example for a period that is not available). It does not concern the documents sent: check the request parameters.',
  ),
  message(
    'WS96',
    'LA RICERCA NON HA PRODOTTO RISULTATI',
    'not-found',
    'observed',
    'X-RUST (test environment, 2026: InterrogazionePuntuale); its use by the citizen-report services is inferred',
    'La ricerca non ha trovato nulla: il Sistema TS non ha acquisito il documento (o l’invio) cercato, oppure non ci sono segnalazioni dei cittadini per il documento o il periodo richiesti.',
    'The search found nothing: Sistema TS has not taken in the document (or upload) asked for, or there are no citizen reports for the document or period asked for.',
  ),
  message(
    'WS99',
    'Errore applicativo del servizio',
    'transient',
    'ours',
    'docs/architecture.md §3 ("STS 200/WS99" transient); no STS source seen',
    'Errore interno del Sistema TS. Il sistema riprova da sé più tardi; se continua per ore, contattare l’assistenza del Sistema TS.',
    'Internal error of Sistema TS. The system retries by itself later; if it goes on for hours, contact the Sistema TS help desk.',
  ),
];

const fault = (
  code: string,
  text: string,
  cls: StsCodeClass,
  origin: StsTextOrigin,
  source: string,
  matches: StsFaultEntry['matches'],
  it: string,
  en: string,
): StsFaultEntry => ({
  ...entry('fault', code, text, cls, source, it, en, origin),
  context: 'fault',
  matches,
});

const isClientFault = (faultcode: string) => /(^|:)Client$/.test(faultcode.trim());
const isServerFault = (faultcode: string) => /(^|:)Server$/.test(faultcode.trim());
const says = (faultstring: string, words: string) => faultstring.toLowerCase().includes(words.toLowerCase());

/** In match order: the first whose `matches` holds wins. */
export const STS_FAULTS: readonly StsFaultEntry[] = [
  fault(
    'account-locked',
    'Errore generico di autenticazione: utenza bloccata',
    'credential',
    'ours',
    'MED15 §1.2 (more than 8 wrong attempts disable the user); no source gives the fault text: matched on the words, as our simulator writes them',
    (f) => /bloccat|disabilitat|disattivat|sospes/i.test(f.faultstring),
    `L’utenza del Sistema TS risulta bloccata, di solito dopo troppi tentativi con una password errata. ${SUSPENDED_IT} Solo l’ente che ha rilasciato le credenziali (ASL, Ordine o Sistema TS) può riattivarla con una nuova password: richiederla, poi aggiornare la credenziale e ripetere il test.`,
    `The Sistema TS user is locked, usually after too many attempts with a wrong password. ${SUSPENDED_EN} Only the body that issued the credentials (ASL, professional board or Sistema TS) can re-enable it with a new password: ask for it, then update the credential and run the test again.`,
  ),
  fault(
    'authentication',
    'Errore generico di autenticazione',
    'credential',
    'observed',
    'X-RUST and X-DOC (test environment, 2026), faultcode env:Client',
    (f) => says(f.faultstring, 'Errore generico di autenticazione'),
    `Il Sistema TS ha rifiutato l’accesso: utente o password errati, password scaduta o utenza bloccata. ${SUSPENDED_IT} Dopo circa 8 tentativi errati l’utenza viene disabilitata e solo l’ente che l’ha rilasciata può riattivarla. Aggiornare la password nella credenziale e ripetere il test della credenziale.`,
    `Sistema TS refused the login: wrong user or password, expired password, or a locked user. ${SUSPENDED_EN} After about 8 wrong attempts the user is disabled and only the issuing body can re-enable it. Update the password in the credential and run the credential test again.`,
  ),
  fault(
    'password-expired',
    'Password scaduta',
    'credential',
    'observed',
    'guida.psicogest.it (docs/protocol.md §4.4): a vendor reports it; the exact faultstring is not confirmed',
    (f) => says(f.faultstring, 'password scaduta'),
    `La password del Sistema TS è scaduta (accade circa ogni due o tre mesi). ${SUSPENDED_IT} Cambiare la password sul portale Sistema TS, aggiornarla nella credenziale e ripetere il test.`,
    `The Sistema TS password has expired (this happens every two or three months or so). ${SUSPENDED_EN} Change the password on the Sistema TS portal, update it in the credential and run the test again.`,
  ),
  fault(
    'credentials-error',
    'errore credenziali',
    'credential',
    'observed',
    'guida.psicogest.it (docs/protocol.md §4.4): a vendor reports it; the exact faultstring is not confirmed',
    (f) => says(f.faultstring, 'errore credenziali'),
    `Il Sistema TS segnala un errore nelle credenziali. ${SUSPENDED_IT} Verificare utente e password della credenziale e ripetere il test.`,
    `Sistema TS reports a credential error. ${SUSPENDED_EN} Check the credential's user and password and run the test again.`,
  ),
  fault(
    'mtom-reader',
    'Errore nella creazione di un lettore per il messaggio MTOM',
    'credential',
    'observed',
    'quickmastro FAQ (docs/protocol.md §4.4): seen with wrong credentials or a portal nickname as user',
    (f) => says(f.faultstring, 'Errore nella creazione di un lettore per il messaggio MTOM'),
    `Il Sistema TS non ha potuto leggere il messaggio. È stato osservato con utente o password errati, o con il nickname del portale al posto del codice utente. ${SUSPENDED_IT} Verificare utente e password; se sono corretti, avvisare i tecnici.`,
    `Sistema TS could not read the message. This has been seen with a wrong user or password, or with the portal nickname instead of the user code. ${SUSPENDED_EN} Check user and password; if they are right, alert the engineers.`,
  ),
  fault(
    'schema-violation',
    'cvc-particle 2.1: in element {http://ejb.invioTelematicoSS730p.sanita.finanze.it/}inviaFileMtom of type {http://ejb.invioTelematicoSS730p.sanita.finanze.it/}inviaFileMtom, found <datiProprietario> (in default namespace), but next item should be pincodeInvianteCifrato',
    'request',
    'official',
    'IT p.2 (example of the cvc- fault, faultcode env:Client)',
    (f) => /^\s*cvc-/.test(f.faultstring),
    `La richiesta non rispetta lo schema XML del servizio ed è stata rifiutata prima di esaminare i documenti. ${OUR_SOFTWARE_IT}`,
    `The request does not follow the service's XML schema and was refused before any document was looked at. ${OUR_SOFTWARE_EN}`,
  ),
  fault(
    'client-internal-error',
    'Internal Error',
    'credential',
    'observed',
    'HOT README ("HTTP 500 / env:Client Internal Error" for bad credentials)',
    (f) => isClientFault(f.faultcode) && f.faultstring.trim().toLowerCase() === 'internal error',
    `Risposta generica del Sistema TS che è stata osservata con credenziali errate. ${SUSPENDED_IT} Verificare utente e password e ripetere il test della credenziale.`,
    `A generic Sistema TS answer that has been seen with wrong credentials. ${SUSPENDED_EN} Check user and password and run the credential test again.`,
  ),
  fault(
    'server-fault',
    'Errore lato server',
    'transient',
    'ours',
    'SOAP 1.1 §4.4.1 (faultcode Server: the message may succeed later)',
    (f) => isServerFault(f.faultcode),
    'Errore interno del Sistema TS. Il sistema riprova da sé più tardi; se continua per ore, contattare l’assistenza del Sistema TS.',
    'Internal error of Sistema TS. The system retries by itself later; if it goes on for hours, contact the Sistema TS help desk.',
  ),
];

/** Every entry, all contexts. */
export const STS_CODE_CATALOGUE: readonly StsCodeEntry[] = [
  ...UPLOAD_RESULTS,
  ...PROCESSING_STATUSES,
  ...CALL_OUTCOMES,
  ...CITIZEN_REPORT_OUTCOMES,
  ...MESSAGES,
  ...STS_FAULTS,
];
