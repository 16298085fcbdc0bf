import password from '@inquirer/password';
import { UsageError } from './errors.ts';
import type { CliIo } from './sts-cli.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The password and pincode of a credential, never from argv: asked for without echo on a terminal,
 * else read from stdin as two lines (the password, then the pincode).
 */
export async function readSecrets(io: CliIo): Promise<{ password: string; pincode: string }> {
  if (io.stdin.isTTY) {
    const context = { input: io.stdin, output: process.stderr };
    const given = await password({ message: 'STS password:', mask: false }, context);
    const pincode = await password({ message: 'Pincode:', mask: false }, context);
    return { password: given, pincode };
  }
  const lines = (await readAll(io.stdin)).split(/\r?\n/);
  const [given, pincode] = [lines[0] ?? '', lines[1] ?? ''];
  if (!given || !pincode)
    throw new UsageError(
      'the password and pincode: stdin is not a terminal, so give them on it as two lines (password, then pincode)',
    );
  return { password: given, pincode };
}
