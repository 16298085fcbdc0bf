/** One invoice event as a line of text (id, status, operation, document id, protocol, messages). */
export const describeInvoice = (invoice: any) => {
  const doc = invoice.document ?? {};
  const messages = (invoice.messages ?? [])
    .map((m: any) =>
      `\n    ${m.code ?? ''} ${m.text ?? m.message ?? ''}${m.explanation?.en ? ` — ${m.explanation.en}` : ''}`.trimEnd(),
    )
    .join('');
  return `${invoice.id}  ${invoice.status}${invoice.statusCause ? ` (${invoice.statusCause})` : ''}  ${invoice.operation} ${doc.vatNumber ?? ''} ${doc.issueDate ?? ''} ${doc.device ?? ''} ${doc.number ?? ''}${invoice.protocol ? `  protocol ${invoice.protocol}` : ''}${messages}`;
};
