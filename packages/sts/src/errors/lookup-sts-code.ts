import {
  STS_CODE_CATALOGUE,
  STS_FAULTS,
  type StsCodeClass,
  type StsCodeContext,
  type StsCodeEntry,
} from './sts-code-catalogue.ts';

/** What came with the code in the response, when anything did. */
export interface ReceivedStsCode {
  /** The description the STS sent (`descrizione`, `descrizioneEsito`, `DESCRIZIONE ERRORE`, `faultstring`). */
  text?: string;
  /** `tipo` of a `listaMessaggi/messaggio` (E error, W warning, S): used only for codes not in the catalogue. */
  messageType?: string;
}

export interface StsCodeLookup extends StsCodeEntry {
  /** The code is in the catalogue (or, for faults, a known fault matched). */
  known: boolean;
  /** The code exactly as received. */
  receivedCode: string;
  /** The text exactly as received, if any: store it next to ours, it is the STS's own word. */
  receivedText: string | undefined;
}

const byContextAndCode = new Map(STS_CODE_CATALOGUE.map((entry) => [key(entry.context, entry.code), entry]));

/**
 * The catalogue entry for `code` as read in `context`. Codes not in the catalogue pass through
 * verbatim (code and received text) with a class from the official prefix rule for messages
 * (E/S = rejected, W = accepted with a warning), else `unknown`. For a SOAP fault, pass the
 * `faultcode` as `code` and the `faultstring` as `received.text`.
 */
export function lookupStsCode(
  code: string,
  context: StsCodeContext,
  received: ReceivedStsCode = {},
): StsCodeLookup {
  const receivedText = received.text;
  if (context === 'fault') {
    const fault = { faultcode: code ?? '', faultstring: receivedText ?? '' };
    const entry = STS_FAULTS.find((candidate) => candidate.matches(fault));
    if (entry) {
      const { matches: _matches, ...plain } = entry;
      return { ...plain, known: true, receivedCode: code, receivedText };
    }
    return passThrough(code, context, receivedText, 'unknown');
  }

  const entry = byContextAndCode.get(key(context, normalize(code, context)));
  if (entry) return { ...entry, known: true, receivedCode: code, receivedText };
  return passThrough(code, context, receivedText, inferClass(code, context, received.messageType));
}

/** Codes are strings in every schema; numbers may come padded or not (`"0"`, `"000"`, `"02"`). */
function normalize(code: string, context: StsCodeContext): string {
  const trimmed = (code ?? '').trim().toUpperCase();
  if (!/^\d+$/.test(trimmed)) return trimmed;
  const value = String(Number(trimmed));
  // Upload results are three-digit codes (`000`, `002`, `110`).
  return context === 'upload-result' ? value.padStart(3, '0') : value;
}

/**
 * The rule stated by every source on document messages: E and S mean the document was rejected
 * ("scarto"), W that it was accepted with a warning. WS codes are about the call, not the document,
 * so the rule does not apply to them; `tipo` decides only where the code itself says nothing.
 */
function inferClass(code: string, context: StsCodeContext, messageType: string | undefined): StsCodeClass {
  if (context !== 'message') return 'unknown';
  const normalized = normalize(code, context);
  if (/^[ES]\d+$/.test(normalized)) return 'document';
  if (/^W\d+$/.test(normalized)) return 'warning';
  if (/^WS/.test(normalized)) return 'unknown';
  const type = messageType?.trim().toUpperCase();
  if (type === 'E') return 'document';
  if (type === 'W') return 'warning';
  return 'unknown';
}

const PASS_THROUGH_EXPLANATIONS: Partial<Record<StsCodeClass, { it: string; en: string }>> = {
  document: {
    it: 'Codice non presente nel nostro catalogo. Per la regola del Sistema TS i codici che iniziano con E o S indicano uno scarto: il documento non è stato acquisito. Leggere la descrizione del Sistema TS, correggere il documento e reinviarlo.',
    en: 'Code not in our catalogue. By the Sistema TS rule, codes starting with E or S mean a rejection: the document was not taken in. Read the Sistema TS description, correct the document and send it again.',
  },
  warning: {
    it: 'Codice non presente nel nostro catalogo. Per la regola del Sistema TS i codici che iniziano con W sono segnalazioni: il documento è stato acquisito. Leggere la descrizione del Sistema TS.',
    en: 'Code not in our catalogue. By the Sistema TS rule, codes starting with W are warnings: the document was taken in. Read the Sistema TS description.',
  },
};

const UNKNOWN_EXPLANATION = {
  it: 'Codice non presente nel nostro catalogo: la descrizione è quella ricevuta dal Sistema TS. Nessuna azione automatica; leggere la descrizione e, se non è chiara, contattare l’assistenza.',
  en: 'Code not in our catalogue: the description is the one Sistema TS sent. No automatic action; read the description and, if it is unclear, contact support.',
};

function passThrough(
  code: string,
  context: StsCodeContext,
  receivedText: string | undefined,
  cls: StsCodeClass,
): StsCodeLookup {
  return {
    context,
    code,
    text: receivedText ?? '',
    textOrigin: 'received',
    source: 'not in the catalogue: as received',
    class: cls,
    explanation: PASS_THROUGH_EXPLANATIONS[cls] ?? UNKNOWN_EXPLANATION,
    known: false,
    receivedCode: code,
    receivedText,
  };
}

function key(context: StsCodeContext, code: string): string {
  return `${context} ${code}`;
}
