import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { memoryPages, validateXML } from 'xmllint-wasm';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';

/**
 * Validation against the official XSDs of the kit with an independent validator: libxml2's xmllint,
 * compiled to WebAssembly (npm `xmllint-wasm`, no system package needed). Many files can be checked
 * in one call, which is how tests keep thousands of documents fast.
 */

export const KIT_SCHEMAS = {
  /** The batch file. */
  precompilata:
    'kit730P_ver_20201218/TracciatiWS/WS_AsincronoInvioDati730/schemaFileAllegatoInvio/730_precompilata.xsd',
  /** Requests and responses of the single-document service. */
  singleDocument: 'kit730P_ver_20201218/TracciatiWS/WS_SincronoSingoloDato730/DocumentoSpesa730pSchema.xsd',
} as const;

export type KitSchema = keyof typeof KIT_SCHEMAS;

export interface XsdFile {
  fileName: string;
  contents: string | Uint8Array;
}

export interface XsdProblem {
  fileName: string | undefined;
  line: number | undefined;
  message: string;
}

export interface XsdValidationResult {
  valid: boolean;
  problems: XsdProblem[];
}

const schemaCache = new Map<string, Promise<string>>();

const loadSchema = (file: string): Promise<string> => {
  let schema = schemaCache.get(file);
  if (!schema) {
    schema = readFile(file, 'utf8');
    schemaCache.set(file, schema);
  }
  return schema;
};

/**
 * Validates one or more XML documents against a kit schema. `kitDir` defaults to `stsKitDir()`: the
 * kit this package carries (`packages/sts/kit/`) or `STS_KIT_DIR`.
 */
export async function validateAgainstKitSchema(
  schema: KitSchema,
  files: XsdFile | readonly XsdFile[],
  options: { kitDir?: string } = {},
): Promise<XsdValidationResult> {
  const schemaPath = path.join(options.kitDir ?? stsKitDir(), KIT_SCHEMAS[schema]);
  const contents = await loadSchema(schemaPath);
  const result = await validateXML({
    xml: Array.isArray(files) ? files : [files as XsdFile],
    schema: [{ fileName: path.basename(schemaPath), contents }],
    // Room for full 5 MB files (some 30 MB of XML); memory grows only as needed.
    maxMemoryPages: memoryPages.GiB,
  });
  return {
    valid: result.valid,
    problems: result.errors.map((error) => ({
      fileName: error.loc?.fileName,
      line: error.loc?.lineNumber,
      message: error.message,
    })),
  };
}
