import PDFDocument from 'pdfkit';

/**
 * Text lines on A4 pages in the standard Helvetica fonts (no embedding, WinAnsi-encoded so Italian
 * accented letters print), written by pdfkit: it measures the words, wraps the lines to the page
 * width and starts new pages. Enough for a receipt any PDF reader opens.
 */

export interface PdfLine {
  text: string;
  bold?: boolean;
  /** Points; default 10. */
  size?: number;
  /** Extra space before the line, points. */
  gapBefore?: number;
}

const MARGIN = 56;
/** Baseline-to-baseline distance as a multiple of the font size. */
const LEADING = 1.45;

/** The characters of Windows-1252 outside Latin-1: WinAnsi fonts print them too. */
const CP1252_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

/** What a WinAnsi font can print: Latin-1, the CP1252 extras, `?` for anything else. */
function winAnsi(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const printableLatin1 = (code >= 0x20 && code < 0x7f) || (code >= 0xa0 && code <= 0xff);
    out += printableLatin1 || CP1252_EXTRAS.has(char) ? char : '?';
  }
  return out;
}

export function writePdf(document: { title: string; lines: PdfLine[]; createdAt: Date }): Buffer {
  const pdf = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    pdfVersion: '1.4',
    info: {
      Title: winAnsi(document.title),
      Producer: 'STS simulator',
      Creator: 'STS simulator',
      CreationDate: document.createdAt,
    },
  });
  for (const line of document.lines) {
    const size = line.size ?? 10;
    pdf.font(line.bold ? 'Helvetica-Bold' : 'Helvetica').fontSize(size);
    if (line.gapBefore) pdf.y += line.gapBefore;
    pdf.text(winAnsi(line.text), { lineGap: size * LEADING - pdf.currentLineHeight(true) });
  }
  pdf.end();
  // pdfkit writes the whole file into the stream's buffer during end(): read it back synchronously.
  const chunks: Buffer[] = [];
  for (let chunk = pdf.read(); chunk !== null; chunk = pdf.read()) chunks.push(chunk);
  return Buffer.concat(chunks);
}
