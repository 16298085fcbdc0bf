import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readZipArchive, stsKitDir } from '@sts/sts';

/**
 * The kit's own material, for tests and benchmarks: the SoapUI sample requests (one file each in
 * `packages/sts/kit/samples/soapui-requests/`) and the zip attachments embedded in the SoapUI projects.
 */

export const KIT_DIR = stsKitDir();

/** A SoapUI sample request as the kit ships it, e.g. `Medico__inviaFileMtom__Medico__0`. */
export function soapuiSample(name: string): string {
  return readFileSync(path.join(KIT_DIR, 'samples', 'soapui-requests', `${name}.xml`), 'utf8');
}

/**
 * A zip attachment of a SoapUI project (SoapUI keeps each attachment zipped once more), e.g.
 * `kitAttachment('SoggettoMedico/730Medico-soapui-project.xml', 'provaMedico.zip')`.
 */
export function kitAttachment(project: string, name: string): Buffer {
  const xml = readFileSync(path.join(KIT_DIR, 'kit730P_ver_20201218', project), 'utf8');
  const pattern = new RegExp(
    `<con:attachment><con:name>${name.replace(/\./g, '\\.')}</con:name>[\\s\\S]*?<con:data>([^<]+)</con:data>`,
  );
  const data = pattern.exec(xml)?.[1];
  if (!data) throw new Error(`no attachment ${name} in ${project}`);
  return readZipArchive(Buffer.from(data, 'base64')).content;
}

/** Replaces the text content of the `occurrence`-th element written `<qname>` (1-based). */
export function setElement(xml: string, qname: string, value: string, occurrence = 1): string {
  const pattern = new RegExp(`(<${qname}>)([^<]*)(</${qname}>)`, 'g');
  let seen = 0;
  let replaced = false;
  const result = xml.replace(pattern, (match, open: string, _text: string, close: string) => {
    seen++;
    if (seen !== occurrence) return match;
    replaced = true;
    return `${open}${value}${close}`;
  });
  if (!replaced) throw new Error(`no <${qname}> #${occurrence} in the sample`);
  return result;
}

/** Removes every element `<qname>…</qname>` (leaf elements only). */
export function removeElement(xml: string, qname: string): string {
  return xml.replace(new RegExp(`\\s*<${qname}>[^<]*</${qname}>`, 'g'), '');
}
