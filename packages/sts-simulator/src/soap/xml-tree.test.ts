import { describe, expect, it } from 'vitest';
import { MAX_XML_DEPTH, parseXmlTree, XmlSyntaxError } from './xml-tree.ts';

describe('xml tree', () => {
  it('refuses nesting deeper than a SOAP request has, quickly', () => {
    const depth = 20_000;
    const started = performance.now();
    expect(() => parseXmlTree(`${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`)).toThrow(XmlSyntaxError);
    expect(performance.now() - started).toBeLessThan(200);
    const deepest = MAX_XML_DEPTH;
    expect(parseXmlTree(`${'<a>'.repeat(deepest)}x${'</a>'.repeat(deepest)}`).local).toBe('a');
  });

  it('refuses a DOCTYPE', () => {
    expect(() => parseXmlTree('<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')).toThrow(/DOCTYPE/);
  });
});
