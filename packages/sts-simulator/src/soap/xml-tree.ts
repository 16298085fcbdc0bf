import { SaxesParser, type SaxesTagNS } from 'saxes';

/**
 * A small namespace-aware element tree, enough to read SOAP requests: element name and namespace,
 * the text of leaf elements, children in order. Built with saxes, a conformant non-validating parser
 * that never resolves external entities; DOCTYPEs are refused outright (no entity tricks).
 */
export interface XmlElement {
  /** Namespace URI, '' for unqualified elements. */
  ns: string;
  local: string;
  /** `prefix:local` as written. */
  qname: string;
  attributes: Record<string, { ns: string; local: string; value: string }>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
  line: number;
}

export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

/**
 * Deeper than any SOAP request of the STS (about 10 levels). saxes resolves each element's namespace
 * through all its ancestors, so unbounded nesting costs quadratic time: 20,000 levels took seconds.
 */
export const MAX_XML_DEPTH = 100;

export function parseXmlTree(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;

  parser.on('doctype', () => {
    throw new XmlSyntaxError('DOCTYPE is not allowed in a SOAP message');
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (stack.length >= MAX_XML_DEPTH) {
      throw new XmlSyntaxError(`elements are nested deeper than ${MAX_XML_DEPTH} levels`);
    }
    const attributes: XmlElement['attributes'] = {};
    for (const [name, attribute] of Object.entries(tag.attributes)) {
      attributes[name] = { ns: attribute.uri, local: attribute.local, value: attribute.value };
    }
    const element: XmlElement = {
      ns: tag.uri,
      local: tag.local,
      qname: tag.name,
      attributes,
      children: [],
      text: '',
      line: parser.line,
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  const onText = (text: string) => {
    const current = stack[stack.length - 1];
    if (current) current.text += text;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', () => {
    stack.pop();
  });

  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof XmlSyntaxError) throw error;
    throw new XmlSyntaxError(`the message is not well-formed XML: ${(error as Error).message}`);
  }
  if (!root) throw new XmlSyntaxError('the message has no root element');
  return root;
}

/** The first child with this local name (and namespace, when given). */
export function childElement(parent: XmlElement, local: string, ns?: string): XmlElement | undefined {
  return parent.children.find((child) => child.local === local && (ns === undefined || child.ns === ns));
}

export function childElements(parent: XmlElement, local: string, ns?: string): XmlElement[] {
  return parent.children.filter((child) => child.local === local && (ns === undefined || child.ns === ns));
}

/** Trimmed text of a child, or undefined when the child is absent. */
export function childText(parent: XmlElement, local: string, ns?: string): string | undefined {
  const child = childElement(parent, local, ns);
  return child === undefined ? undefined : child.text.trim();
}
