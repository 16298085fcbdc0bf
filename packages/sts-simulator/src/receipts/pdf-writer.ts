/**
 * A minimal PDF 1.4 writer: text lines on A4 pages in the standard Helvetica fonts (no embedding),
 * WinAnsi-encoded so Italian accented letters print, an uncompressed content stream per page and an
 * exact cross-reference table. Enough for a receipt any PDF reader opens.
 */

export interface PdfLine {
  text: string;
  bold?: boolean;
  /** Points; default 10. */
  size?: number;
  /** Extra space before the line, points. */
  gapBefore?: number;
}

const PAGE_WIDTH = 595;
const PAGE_HEIGHT = 842;
const MARGIN = 56;
const LEADING = 1.45;
const MAX_CHARS = 100;

/** Characters of Windows-1252 outside Latin-1 that texts commonly contain. */
const CP1252_EXTRAS: Record<string, number> = {
  '’': 0x92,
  '‘': 0x91,
  '“': 0x93,
  '”': 0x94,
  '–': 0x96,
  '—': 0x97,
  '€': 0x80,
};

/** A WinAnsi string literal body: Latin-1 as is, a few CP1252 extras, `?` for anything else; `( ) \\` escaped. */
function encodeText(text: string): Buffer {
  const bytes: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const printableLatin1 = (code >= 0x20 && code < 0x7f) || (code >= 0xa0 && code <= 0xff);
    const byte = CP1252_EXTRAS[char] ?? (printableLatin1 ? code : 0x3f);
    if (byte === 0x28 || byte === 0x29 || byte === 0x5c) bytes.push(0x5c);
    bytes.push(byte);
  }
  return Buffer.from(bytes);
}

function wrap(line: PdfLine): PdfLine[] {
  const limit = Math.floor((MAX_CHARS * 10) / (line.size ?? 10));
  if (line.text.length <= limit) return [line];
  const out: PdfLine[] = [];
  let rest = line.text;
  let first = true;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf(' ', limit);
    if (cut <= 0) cut = limit;
    out.push({ ...line, text: rest.slice(0, cut), ...(first ? {} : { gapBefore: 0 }) });
    rest = rest.slice(cut).trimStart();
    first = false;
  }
  out.push({ ...line, text: rest, gapBefore: 0 });
  return out;
}

function pageContent(lines: PdfLine[]): Buffer {
  const parts: Buffer[] = [Buffer.from('BT\n', 'latin1')];
  let y = PAGE_HEIGHT - MARGIN;
  for (const line of lines) {
    const size = line.size ?? 10;
    y -= (line.gapBefore ?? 0) + size * LEADING;
    parts.push(
      Buffer.from(`/${line.bold ? 'F2' : 'F1'} ${size} Tf 1 0 0 1 ${MARGIN} ${y.toFixed(2)} Tm (`, 'latin1'),
      encodeText(line.text),
      Buffer.from(') Tj\n', 'latin1'),
    );
  }
  parts.push(Buffer.from('ET\n', 'latin1'));
  return Buffer.concat(parts);
}

function paginate(lines: PdfLine[]): PdfLine[][] {
  const pages: PdfLine[][] = [[]];
  let used = 0;
  const available = PAGE_HEIGHT - 2 * MARGIN;
  for (const line of lines.flatMap(wrap)) {
    const height = (line.gapBefore ?? 0) + (line.size ?? 10) * LEADING;
    if (used + height > available && pages[pages.length - 1]!.length > 0) {
      pages.push([]);
      used = 0;
    }
    pages[pages.length - 1]!.push(line);
    used += height;
  }
  return pages;
}

const pdfDate = (date: Date) => `D:${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

export function writePdf(document: { title: string; lines: PdfLine[]; createdAt: Date }): Buffer {
  const pages = paginate(document.lines);
  // Objects: 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info, then page + content per page.
  const objects: Buffer[] = [];
  const firstPage = 6;
  const kids = pages.map((_, index) => `${firstPage + index * 2} 0 R`).join(' ');
  objects.push(Buffer.from('<< /Type /Catalog /Pages 2 0 R >>', 'latin1'));
  objects.push(Buffer.from(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`, 'latin1'));
  objects.push(
    Buffer.from(
      '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
      'latin1',
    ),
  );
  objects.push(
    Buffer.from(
      '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
      'latin1',
    ),
  );
  objects.push(
    Buffer.concat([
      Buffer.from('<< /Title (', 'latin1'),
      encodeText(document.title),
      Buffer.from(`) /Producer (STS simulator) /CreationDate (${pdfDate(document.createdAt)}) >>`, 'latin1'),
    ]),
  );
  pages.forEach((lines, index) => {
    const contentId = firstPage + index * 2 + 1;
    objects.push(
      Buffer.from(
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_WIDTH} ${PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${contentId} 0 R >>`,
        'latin1',
      ),
    );
    const content = pageContent(lines);
    objects.push(
      Buffer.concat([
        Buffer.from(`<< /Length ${content.length} >>\nstream\n`, 'latin1'),
        content,
        Buffer.from('\nendstream', 'latin1'),
      ]),
    );
  });

  // The binary comment line tells transfer tools the file is binary (PDF 1.4 §3.4.1).
  const chunks: Buffer[] = [Buffer.from('%PDF-1.4\n%\xE2\xE3\xCF\xD3\n', 'latin1')];
  let offset = chunks[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(offset);
    const chunk = Buffer.concat([
      Buffer.from(`${index + 1} 0 obj\n`, 'latin1'),
      body,
      Buffer.from('\nendobj\n', 'latin1'),
    ]);
    chunks.push(chunk);
    offset += chunk.length;
  });
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((value) => `${String(value).padStart(10, '0')} 00000 n `),
  ].join('\n');
  chunks.push(
    Buffer.from(
      `${xref}\ntrailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${offset}\n%%EOF\n`,
      'latin1',
    ),
  );
  return Buffer.concat(chunks);
}
