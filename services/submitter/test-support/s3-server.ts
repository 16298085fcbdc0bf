import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/**
 * A real S3-compatible HTTP server for tests: s3rver on 127.0.0.1 (a free port), its objects in a
 * fresh temporary directory (`directory/<bucket>/<key>._S3rver_object`), one bucket created through
 * the real AWS SDK client given back. s3rver does not honour `If-None-Match` on PUT and checks no
 * checksum; Object Lock does not exist there.
 */
export interface TestS3Server {
  client: S3Client;
  bucket: string;
  endpoint: string;
  directory: string;
  close(): Promise<void>;
}

export async function startTestS3Server(bucket = 'sts-proofs-test'): Promise<TestS3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'sts-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'eu-south-1',
    forcePathStyle: true,
    // s3rver's fixed test credentials (it checks the signature with them).
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    client,
    bucket,
    endpoint,
    directory,
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
