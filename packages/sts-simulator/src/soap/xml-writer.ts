/** Escapes element text the way JAX-WS does: `&`, `<`, `>` only (apostrophes stay as they are). */
export function escapeXml(value: string): string {
  return value.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'));
}

/**
 * Writes elements with or without a prefix: the receipt/upload services have a namespaced wrapper
 * and unqualified children, the single-document and query services qualify every child (§1.3).
 */
export interface ElementWriter {
  leaf(name: string, text: string | number): string;
  node(name: string, content: string): string;
}

export function elementWriter(prefix: string | undefined): ElementWriter {
  const q = (name: string) => (prefix ? `${prefix}:${name}` : name);
  return {
    leaf: (name, text) => `<${q(name)}>${escapeXml(String(text))}</${q(name)}>`,
    node: (name, content) => `<${q(name)}>${content}</${q(name)}>`,
  };
}
