import { type SaxesAttributeNS, SaxesParser, type SaxesTagNS } from 'saxes';
import {
  type DocumentId,
  type EncryptedTaxCode,
  EXPENSE_TYPES,
  type ExpenseDocument,
  type ExpenseLine,
  type ExpenseType,
  type Patient,
  type Sender,
} from '../documents/expense-document.ts';
import { isCalendarDate } from '../documents/validate-document.ts';
import {
  DOCUMENT_TYPE_BY_CODE,
  EXPENSE_TYPE_FLAG_BY_CODE,
  OPERATION_BY_CODE,
  OPPOSITION_CODES,
  PRECOMPILATA,
  TRACEABLE_PAYMENT_CODES,
  XML,
} from '../documents/xml-names.ts';
import { type ReadZipOptions, readZipArchive } from './zip-archive.ts';

/**
 * Reads a 730 batch file back into our model: the sender with its `cfProprietario` still encrypted,
 * each document with its patient as `EncryptedTaxCode` or opposed. It checks well-formedness (saxes, a
 * conformant XML parser), that elements are unqualified and appear in exactly the XSD's sequence, and
 * the lexical form of every value it maps (dates, integers, decimals, codes). Range facets and
 * business rules are left to the XSD validator and `validateEncryptedDocument`. Anything else is
 * refused with a `PrecompilataParseError` naming the element path and position.
 */

export interface ParsedPrecompilata {
  sender: Sender<EncryptedTaxCode>;
  documents: ExpenseDocument[];
}

export class PrecompilataParseError extends Error {
  readonly code: string;
  /** Element path in the file's own (Italian) names, e.g. `/precompilata/documentoSpesa[3]/voceSpesa[1]/importo`. */
  readonly path: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(code: string, message: string, path: string, line?: number, column?: number) {
    const where = line === undefined ? '' : ` (line ${line}, column ${column})`;
    super(`${path || 'file'}${where}: ${message}`);
    this.name = 'PrecompilataParseError';
    this.code = code;
    this.path = path;
    this.line = line;
    this.column = column;
  }
}

interface Node {
  name: string;
  path: string;
  children: Node[];
  text: string;
  line: number;
  column: number;
}

type Occurs = readonly [name: string, min: 0 | 1, max: 1 | 'n'];

const ID_SEQUENCE: readonly Occurs[] = [
  [XML.vatNumber, 1, 1],
  [XML.issueDate, 1, 1],
  [XML.numberGroup, 1, 1],
];
const NUMBER_SEQUENCE: readonly Occurs[] = [
  [XML.device, 1, 1],
  [XML.number, 1, 1],
];
const OWNER_SEQUENCE: readonly Occurs[] = [
  [XML.regionCode, 0, 1],
  [XML.aslCode, 0, 1],
  [XML.ssaCode, 0, 1],
  [XML.ownerTaxCode, 0, 1],
];
const DOCUMENT_SEQUENCE: readonly Occurs[] = [
  [XML.id, 1, 1],
  [XML.refundedDocumentId, 0, 1],
  [XML.paymentDate, 1, 1],
  [XML.paidInAdvance, 0, 1],
  [XML.operation, 1, 1],
  [XML.patientTaxCode, 0, 1],
  [XML.traceablePayment, 0, 1],
  [XML.documentType, 0, 1],
  [XML.opposition, 0, 1],
  [XML.line, 1, 'n'],
];
const LINE_SEQUENCE: readonly Occurs[] = [
  [XML.expenseType, 1, 1],
  [XML.expenseTypeFlag, 0, 1],
  [XML.amount, 1, 1],
  [XML.vatRate, 0, 1],
  [XML.vatNature, 0, 1],
];
const fail = (node: Pick<Node, 'path' | 'line' | 'column'>, code: string, message: string): never => {
  throw new PrecompilataParseError(code, message, node.path, node.line, node.column);
};

/** Matches children against an `xs:sequence`, returning them by name. */
function matchSequence(parent: Node, sequence: readonly Occurs[]): Map<string, Node[]> {
  const found = new Map<string, Node[]>();
  let index = 0;
  sequence.forEach(([name, min, max], position) => {
    const matched: Node[] = [];
    while (index < parent.children.length && parent.children[index]!.name === name) {
      matched.push(parent.children[index]!);
      index++;
      if (max === 1 && matched.length === 1) break;
    }
    if (matched.length < min) {
      const next = parent.children[index];
      const later = next && sequence.slice(position + 1).some(([other]) => other === next.name);
      if (next && !later) {
        fail(
          next,
          'xml.unexpected-element',
          `<${next.name}> is not allowed here in <${parent.name}> (wrong name, order or count)`,
        );
      }
      fail(
        next ?? parent,
        'xml.missing-element',
        next ? `expected <${name}> before <${next.name}>` : `<${parent.name}> lacks the required <${name}>`,
      );
    }
    found.set(name, matched);
  });
  const extra = parent.children[index];
  if (extra) {
    fail(
      extra,
      'xml.unexpected-element',
      `<${extra.name}> is not allowed here in <${parent.name}> (wrong name, order or count)`,
    );
  }
  return found;
}

const one = (found: Map<string, Node[]>, name: string): Node => found.get(name)![0]!;
const optional = (found: Map<string, Node[]>, name: string): Node | undefined => found.get(name)?.[0];

function leafText(node: Node): string {
  if (node.children.length > 0)
    fail(node.children[0]!, 'xml.unexpected-element', `<${node.name}> holds text only`);
  return node.text;
}

/** Whitespace "collapse" applies to the XSD's date, int, integer and decimal types. */
const collapsed = (node: Node): string => leafText(node).trim();

function enumerated<T>(node: Node, codes: Record<string, T>): T {
  const text = leafText(node);
  if (!Object.hasOwn(codes, text)) {
    fail(node, 'xml.value', `<${node.name}> must be one of ${Object.keys(codes).join(', ')}`);
  }
  return codes[text]!;
}

function dateValue(node: Node): string {
  const text = collapsed(node);
  if (!isCalendarDate(text)) fail(node, 'xml.value', `<${node.name}> must be a date YYYY-MM-DD`);
  return text;
}

function intValue(node: Node): number {
  const text = collapsed(node);
  if (!/^[+-]?[0-9]{1,10}$/.test(text)) fail(node, 'xml.value', `<${node.name}> must be an integer`);
  return Number(text);
}

function decimalText(node: Node): string {
  const text = collapsed(node);
  if (!/^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(text))
    fail(node, 'xml.value', `<${node.name}> must be a decimal`);
  return text;
}

function documentId(node: Node): DocumentId {
  const found = matchSequence(node, ID_SEQUENCE);
  const vatNode = one(found, XML.vatNumber);
  const vatNumber = collapsed(vatNode);
  if (!/^[0-9]{11}$/.test(vatNumber)) fail(vatNode, 'xml.value', `<${XML.vatNumber}> must be 11 digits`);
  const numbers = matchSequence(one(found, XML.numberGroup), NUMBER_SEQUENCE);
  return {
    vatNumber,
    issueDate: dateValue(one(found, XML.issueDate)),
    device: intValue(one(numbers, XML.device)),
    number: leafText(one(numbers, XML.number)),
  };
}

function line(node: Node): ExpenseLine {
  const found = matchSequence(node, LINE_SEQUENCE);
  const typeNode = one(found, XML.expenseType);
  const expenseType = leafText(typeNode) as ExpenseType;
  if (!EXPENSE_TYPES.includes(expenseType)) {
    fail(typeNode, 'xml.value', `<${XML.expenseType}> must be one of ${EXPENSE_TYPES.join(', ')}`);
  }
  const flagNode = optional(found, XML.expenseTypeFlag);
  const rateNode = optional(found, XML.vatRate);
  const natureNode = optional(found, XML.vatNature);
  if (rateNode && natureNode)
    fail(natureNode, 'xml.unexpected-element', `<${XML.vatRate}> and <${XML.vatNature}> exclude each other`);
  return {
    expenseType,
    ...(flagNode ? { expenseTypeFlag: enumerated(flagNode, EXPENSE_TYPE_FLAG_BY_CODE) } : {}),
    amount: decimalText(one(found, XML.amount)),
    ...(rateNode ? { vatRate: decimalText(rateNode) } : {}),
    ...(natureNode ? { vatNature: leafText(natureNode) } : {}),
  };
}

function expenseDocument(node: Node): ExpenseDocument {
  const found = matchSequence(node, DOCUMENT_SEQUENCE);
  const refundedNode = optional(found, XML.refundedDocumentId);
  const advanceNode = optional(found, XML.paidInAdvance);
  if (advanceNode && intValue(advanceNode) !== 1)
    fail(advanceNode, 'xml.value', `<${XML.paidInAdvance}> can only be 1`);
  const taxCodeNode = optional(found, XML.patientTaxCode);
  const oppositionNode = optional(found, XML.opposition);
  const opposed =
    oppositionNode !== undefined &&
    enumerated(oppositionNode, { [OPPOSITION_CODES.opposed]: true, [OPPOSITION_CODES.notOpposed]: false });
  let patient: Patient;
  if (opposed) {
    if (taxCodeNode)
      fail(
        taxCodeNode,
        'xml.opposition-with-tax-code',
        `<${XML.patientTaxCode}> must be absent when <${XML.opposition}> is 1`,
      );
    patient = { kind: 'opposed' };
  } else {
    if (!taxCodeNode)
      fail(
        node,
        'xml.missing-element',
        `<${XML.patientTaxCode}> is required unless <${XML.opposition}> is 1`,
      );
    patient = { kind: 'identified', taxCode: { encrypted: leafText(taxCodeNode!) } };
  }
  const traceableNode = optional(found, XML.traceablePayment);
  const documentTypeNode = optional(found, XML.documentType);
  return {
    id: documentId(one(found, XML.id)),
    operation: enumerated(one(found, XML.operation), OPERATION_BY_CODE),
    ...(refundedNode ? { refundedDocumentId: documentId(refundedNode) } : {}),
    paymentDate: dateValue(one(found, XML.paymentDate)),
    ...(advanceNode ? { paidInAdvance: true } : {}),
    patient,
    ...(traceableNode
      ? {
          traceablePayment: enumerated(traceableNode, {
            [TRACEABLE_PAYMENT_CODES.traceable]: true,
            [TRACEABLE_PAYMENT_CODES.notTraceable]: false,
          }),
        }
      : {}),
    ...(documentTypeNode ? { documentType: enumerated(documentTypeNode, DOCUMENT_TYPE_BY_CODE) } : {}),
    lines: found.get(XML.line)!.map(line),
  };
}

function owner(node: Node): Sender<EncryptedTaxCode> {
  const found = matchSequence(node, OWNER_SEQUENCE);
  const codes = [XML.regionCode, XML.aslCode, XML.ssaCode].map((name) => optional(found, name));
  const taxCodeNode = optional(found, XML.ownerTaxCode);
  const taxCode = taxCodeNode ? { encrypted: leafText(taxCodeNode) } : undefined;
  if (codes.every((code) => code !== undefined)) {
    const [region, asl, ssa] = codes.map((code) => leafText(code!));
    return {
      kind: 'structure',
      regionCode: region!,
      aslCode: asl!,
      ssaCode: ssa!,
      ...(taxCode ? { taxCode } : {}),
    };
  }
  if (codes.some((code) => code !== undefined)) {
    fail(
      node,
      'xml.owner',
      `<${PRECOMPILATA.owner}> must have all of codiceRegione, codiceAsl, codiceSSA or none`,
    );
  }
  if (!taxCode)
    fail(node, 'xml.owner', `<${PRECOMPILATA.owner}> must have <${XML.ownerTaxCode}> or the structure codes`);
  return { kind: 'professional', taxCode: taxCode! };
}

function decode(input: string | Uint8Array): string {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(input);
  } catch {
    throw new PrecompilataParseError('xml.encoding', 'the file is not valid UTF-8', '');
  }
}

/** The root's sequence: opzionale1?, opzionale2?, opzionale3?, proprietario, documentoSpesa+. */
const ROOT_SEQUENCE = [
  XML.optional1,
  XML.optional2,
  XML.optional3,
  PRECOMPILATA.owner,
  XML.document,
] as const;
const OWNER_POSITION = 3;
const DOCUMENT_POSITION = 4;

/**
 * Parses a whole 730 file. Documents are converted as each `documentoSpesa` closes, so only one
 * document's element tree is held at a time.
 */
export function parsePrecompilataXml(input: string | Uint8Array): ParsedPrecompilata {
  const xml = decode(input);
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: (Node & { counts: Map<string, number> })[] = [];
  const documents: ExpenseDocument[] = [];
  let sender: Sender<EncryptedTaxCode> | undefined;
  let sawRoot = false;
  let rootPosition = -1;
  let skipDepth = 0;
  const top = () => stack[stack.length - 1];
  const here = (path: string) => ({ path, line: parser.line, column: parser.column });

  parser.on('xmldecl', (decl) => {
    if (decl.encoding && decl.encoding.toUpperCase() !== 'UTF-8') {
      fail(here(''), 'xml.encoding', 'the file must be encoded in UTF-8');
    }
  });
  parser.on('doctype', () => fail(here(''), 'xml.doctype', 'a DOCTYPE is not allowed'));
  parser.on('processinginstruction', () =>
    fail(here(''), 'xml.processing-instruction', 'processing instructions are not allowed'),
  );
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (skipDepth > 0) {
      skipDepth++;
      return;
    }
    const parent = top();
    const name = tag.local;
    const index = (parent?.counts.get(name) ?? 0) + 1;
    parent?.counts.set(name, index);
    const numbered = name === XML.document || name === XML.line;
    const path = parent ? `${parent.path}/${name}${numbered ? `[${index}]` : ''}` : `/${name}`;
    const node = {
      name,
      path,
      children: [],
      text: '',
      line: parser.line,
      column: parser.column,
      counts: new Map(),
    };
    if (tag.uri !== '')
      fail(node, 'xml.namespace', `<${tag.name}> must not be in a namespace (the file schema has none)`);
    for (const attribute of Object.values(tag.attributes) as SaxesAttributeNS[]) {
      const declaration = attribute.name === 'xmlns' || attribute.prefix === 'xmlns';
      const schemaLocation =
        !parent &&
        attribute.uri === PRECOMPILATA.xsiNamespace &&
        attribute.local === 'noNamespaceSchemaLocation';
      if (!declaration && !schemaLocation)
        fail(node, 'xml.attribute', `attribute ${attribute.name} is not allowed`);
    }
    if (!parent) {
      if (sawRoot || name !== PRECOMPILATA.root)
        fail(node, 'xml.root', `the root element must be <${PRECOMPILATA.root}>`);
      sawRoot = true;
      stack.push(node);
      return;
    }
    if (parent.name === PRECOMPILATA.root) {
      const position = (ROOT_SEQUENCE as readonly string[]).indexOf(name);
      if (position < 0)
        fail(node, 'xml.unexpected-element', `<${name}> is not allowed in <${PRECOMPILATA.root}>`);
      if (position < rootPosition || (position === rootPosition && position !== DOCUMENT_POSITION)) {
        fail(
          node,
          'xml.unexpected-element',
          `<${name}> is out of order or repeated in <${PRECOMPILATA.root}>`,
        );
      }
      if (position === DOCUMENT_POSITION && rootPosition < OWNER_POSITION) {
        fail(node, 'xml.missing-element', `<${PRECOMPILATA.owner}> must come before the documents`);
      }
      rootPosition = position;
      if (position < OWNER_POSITION) {
        skipDepth = 1; // opzionale1..3 have open content (anyType): skipped.
        return;
      }
    } else {
      if (parent.text.trim() !== '')
        fail(node, 'xml.mixed-content', `<${parent.name}> mixes text and elements`);
      parent.children.push(node);
    }
    stack.push(node);
  });
  const onText = (text: string) => {
    if (skipDepth > 0) return;
    const node = top();
    if (!node) return;
    if (node.name === PRECOMPILATA.root || node.children.length > 0) {
      if (text.trim() !== '') fail(here(node.path), 'xml.mixed-content', `<${node.name}> cannot hold text`);
      return;
    }
    node.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    if (skipDepth > 0) {
      skipDepth--;
      return;
    }
    const node = stack.pop()!;
    if (top()?.name !== PRECOMPILATA.root) return;
    // Children of the root are converted as soon as they close, then dropped.
    if (node.name === PRECOMPILATA.owner) sender = owner(node);
    else if (node.name === XML.document) documents.push(expenseDocument(node));
  });

  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof PrecompilataParseError) throw error;
    throw new PrecompilataParseError(
      'xml.malformed',
      `the file is not well-formed XML: ${(error as Error).message}`,
      '',
    );
  }
  if (!sawRoot)
    throw new PrecompilataParseError('xml.root', `the root element must be <${PRECOMPILATA.root}>`, '');
  if (!sender)
    throw new PrecompilataParseError(
      'xml.missing-element',
      `<${PRECOMPILATA.owner}> is missing`,
      `/${PRECOMPILATA.root}`,
    );
  if (documents.length === 0) {
    throw new PrecompilataParseError(
      'xml.missing-element',
      `at least one <${XML.document}> is required`,
      `/${PRECOMPILATA.root}`,
    );
  }
  return { sender, documents };
}

/** Reads an uploaded zip (exactly one XML inside) and parses it. */
export function parsePrecompilataZip(
  bytes: Buffer,
  options: ReadZipOptions = {},
): ParsedPrecompilata & { entryName: string } {
  const { entryName, content } = readZipArchive(bytes, options);
  return { entryName, ...parsePrecompilataXml(content) };
}
