import { getDocument, VerbosityLevel } from 'pdfjs-dist/legacy/build/pdf.mjs';

export interface PdfContent {
  pages: number;
  /** The document information dictionary (Title, Producer, CreationDate, PDFFormatVersion, …). */
  info: Record<string, unknown>;
  /** The lines as a reader shows them, page after page. */
  lines: string[];
  /** The lines joined by single spaces: a sentence wrapped over two lines reads whole. */
  text: string;
}

/** Reads a PDF as a reader does (Mozilla's pdf.js): it fails on a file a reader could not open. */
export async function readPdf(pdf: Uint8Array): Promise<PdfContent> {
  const task = getDocument({ data: new Uint8Array(pdf), verbosity: VerbosityLevel.ERRORS });
  const document = await task.promise;
  try {
    const lines: string[] = [];
    for (let number = 1; number <= document.numPages; number++) {
      const content = await (await document.getPage(number)).getTextContent();
      let line = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        line += item.str;
        if (item.hasEOL) {
          if (line !== '') lines.push(line);
          line = '';
        }
      }
      if (line !== '') lines.push(line);
    }
    const { info } = await document.getMetadata();
    return { pages: document.numPages, info: info as Record<string, unknown>, lines, text: lines.join(' ') };
  } finally {
    await task.destroy();
  }
}
