import zlib from 'node:zlib';
import { type RomeTime, romeTime } from '@sts/shared';

/**
 * The STS takes exactly one zip per upload holding exactly one XML file (spec v2.5 §4.5 and §5).
 * This writes such archives the way the kit's own sample does (`provaMedico.zip`, decoded from the
 * SoapUI project): a single deflated entry, CRC and sizes in the local header (no data descriptor,
 * no extra fields, no zip64), version 2.0. Input is compressed as it arrives; only the compressed
 * bytes of the one archive being written are held in memory.
 */

const LOCAL_HEADER_SIZE = 30;
const CENTRAL_HEADER_SIZE = 46;
const END_OF_CENTRAL_DIRECTORY_SIZE = 22;
const DEFLATE_WINDOW = 32 * 1024;
/** Compress pending input once this much has accumulated. */
const SEGMENT_SIZE = 128 * 1024;
/** Room for the sync-flush marker of a segment and the final empty block. */
const FLUSH_MARGIN = 16;

/** `nomeFileAllegato`: 6–60 basic-Latin characters ending in `.zip` (error 101); we allow a safe subset. */
const ARCHIVE_NAME = /^[A-Za-z0-9_.-]{2,56}\.zip$/;

export function isValidArchiveName(name: string): boolean {
  return ARCHIVE_NAME.test(name);
}

/** Thrown for a name the STS would refuse, or content that is not a single-entry zip we can read. */
export class ZipArchiveError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ZipArchiveError';
    this.code = code;
  }
}

export function assertArchiveName(name: string): void {
  if (!isValidArchiveName(name)) {
    throw new ZipArchiveError(
      'zip.name',
      'The archive name must be 6 to 60 characters of A-Z a-z 0-9 _ . - and end in .zip (STS error 101 otherwise).',
    );
  }
}

/** The XML entry inside `name.zip` is `name.xml`, as in every kit sample. */
export const entryNameFor = (archiveName: string): string => archiveName.replace(/\.zip$/, '.xml');

/** Bytes an archive adds around the compressed data of its single entry. */
export const zipOverhead = (entryName: string): number =>
  LOCAL_HEADER_SIZE + CENTRAL_HEADER_SIZE + END_OF_CENTRAL_DIRECTORY_SIZE + 2 * Buffer.byteLength(entryName);

/** zlib's conservative bound on raw-deflate output for `n` input bytes, whatever the settings. */
export const deflateBound = (n: number): number => n + ((n + 7) >> 3) + ((n + 63) >> 6) + 5;

/** MS-DOS date and time fields, in Italian civil time (what a clinic's PC would write). */
function dosDateTime(date: Date): { time: number; date: number } {
  const parts = Object.fromEntries(
    Object.entries(romeTime(date)).map(([unit, value]) => [unit, Number(value)]),
  ) as Record<keyof RomeTime, number>;
  const year = Math.min(Math.max(parts.year - 1980, 0), 127);
  return {
    time: (parts.hour << 11) | (parts.minute << 5) | Math.floor(parts.second / 2),
    date: (year << 9) | (parts.month << 5) | parts.day,
  };
}

export interface ZipWriterOptions {
  entryName: string;
  /** zlib level 1–9; default 6. */
  level?: number;
  modifiedAt?: Date;
}

export interface ZipWriter {
  /** Adds uncompressed bytes to the entry. */
  write(data: Buffer): void;
  /** Compresses everything written so far, making `compressedBytes` exact. */
  flush(): void;
  /** Compressed bytes produced so far (exact after `flush`). */
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** An upper bound of the archive's size if `extraBytes` more were written and it were finished now. */
  sizeBound(extraBytes: number): number;
  /** Ends the entry and returns the whole archive. The writer cannot be used afterwards. */
  finish(): Buffer;
}

/**
 * A zip writer for one entry that compresses incrementally, segment by segment: each segment is
 * raw-deflated with the previous 32 KiB as dictionary and ends with a sync flush, so the segments
 * concatenate into one valid deflate stream (the technique of pigz) and the compressed size is known
 * exactly after every flush, which is what filling a file up to 5 MB needs.
 */
export function createZipWriter(options: ZipWriterOptions): ZipWriter {
  const entryName = Buffer.from(options.entryName, 'latin1');
  const level = options.level ?? 6;
  const modifiedAt = options.modifiedAt ?? new Date();
  const compressed: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let window: Buffer = Buffer.alloc(0);
  let crc = 0;
  let compressedBytes = 0;
  let uncompressedBytes = 0;
  let finished = false;

  const compress = (finalFlush: boolean) => {
    const input = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const output = zlib.deflateRawSync(input, {
      level,
      finishFlush: finalFlush ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
      ...(window.length > 0 ? { dictionary: window } : {}),
    });
    compressed.push(output);
    compressedBytes += output.length;
    window =
      input.length >= DEFLATE_WINDOW
        ? Buffer.from(input.subarray(input.length - DEFLATE_WINDOW))
        : Buffer.concat([window, input]).subarray(-DEFLATE_WINDOW);
    pending = [];
    pendingBytes = 0;
  };

  const assertOpen = () => {
    if (finished) throw new Error('zip writer already finished');
  };

  return {
    write(data) {
      assertOpen();
      if (data.length === 0) return;
      crc = zlib.crc32(data, crc);
      uncompressedBytes += data.length;
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes >= SEGMENT_SIZE) compress(false);
    },
    flush() {
      assertOpen();
      if (pendingBytes > 0) compress(false);
    },
    get compressedBytes() {
      return compressedBytes;
    },
    get uncompressedBytes() {
      return uncompressedBytes;
    },
    sizeBound(extraBytes) {
      return (
        zipOverhead(options.entryName) +
        compressedBytes +
        deflateBound(pendingBytes + extraBytes) +
        FLUSH_MARGIN
      );
    },
    finish() {
      assertOpen();
      compress(true);
      finished = true;
      const { time, date } = dosDateTime(modifiedAt);

      const local = Buffer.alloc(LOCAL_HEADER_SIZE);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
      local.writeUInt16LE(0, 6); // flags: none (sizes known, no data descriptor)
      local.writeUInt16LE(8, 8); // method: deflate
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      local.writeUInt32LE(crc >>> 0, 14);
      local.writeUInt32LE(compressedBytes, 18);
      local.writeUInt32LE(uncompressedBytes, 22);
      local.writeUInt16LE(entryName.length, 26);
      local.writeUInt16LE(0, 28);

      const central = Buffer.alloc(CENTRAL_HEADER_SIZE);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(20, 4); // made by: MS-DOS, 2.0
      central.writeUInt16LE(20, 6);
      central.writeUInt16LE(0, 8);
      central.writeUInt16LE(8, 10);
      central.writeUInt16LE(time, 12);
      central.writeUInt16LE(date, 14);
      central.writeUInt32LE(crc >>> 0, 16);
      central.writeUInt32LE(compressedBytes, 20);
      central.writeUInt32LE(uncompressedBytes, 24);
      central.writeUInt16LE(entryName.length, 28);
      central.writeUInt16LE(0, 30); // extra
      central.writeUInt16LE(0, 32); // comment
      central.writeUInt16LE(0, 34); // disk
      central.writeUInt16LE(1, 36); // internal attributes: text
      central.writeUInt32LE(0x20, 38); // external attributes: archive
      central.writeUInt32LE(0, 42); // offset of the local header

      const centralOffset = LOCAL_HEADER_SIZE + entryName.length + compressedBytes;
      const end = Buffer.alloc(END_OF_CENTRAL_DIRECTORY_SIZE);
      end.writeUInt32LE(0x06054b50, 0);
      end.writeUInt16LE(0, 4);
      end.writeUInt16LE(0, 6);
      end.writeUInt16LE(1, 8);
      end.writeUInt16LE(1, 10);
      end.writeUInt32LE(CENTRAL_HEADER_SIZE + entryName.length, 12);
      end.writeUInt32LE(centralOffset, 16);
      end.writeUInt16LE(0, 20);

      return Buffer.concat([local, entryName, ...compressed, central, entryName, end]);
    },
  };
}

/** One-shot: an archive holding `content` as `entryName`. */
export function createZipArchive(
  entryName: string,
  content: Buffer | string,
  options: { modifiedAt?: Date } = {},
) {
  const writer = createZipWriter({ entryName, ...options });
  writer.write(typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  return writer.finish();
}

export interface ReadZipOptions {
  /** Refuse entries that inflate beyond this (zip bombs). Default 256 MiB. */
  maxUncompressedBytes?: number;
}

/**
 * Every entry of a zip archive, read from the central directory. Each entry inflates to at most the
 * size its header declares (a zip bomb stops there, not at the overall limit), and all entries
 * together to at most `maxUncompressedBytes`.
 */
export function readZipEntries(
  bytes: Buffer,
  options: ReadZipOptions = {},
): { entryName: string; content: Buffer }[] {
  const maxUncompressed = options.maxUncompressedBytes ?? 256 * 1024 * 1024;
  const fail = (code: string, message: string): never => {
    throw new ZipArchiveError(code, message);
  };
  if (bytes.length === 0) fail('zip.empty', 'The attachment is empty.');
  if (
    bytes.length < LOCAL_HEADER_SIZE + END_OF_CENTRAL_DIRECTORY_SIZE ||
    bytes.readUInt32LE(0) !== 0x04034b50
  ) {
    fail('zip.invalid', 'The attachment is not a zip archive.');
  }
  // The end record sits at the very end unless a comment follows it (up to 65535 bytes).
  let endOffset = -1;
  for (let i = bytes.length - END_OF_CENTRAL_DIRECTORY_SIZE; i >= Math.max(0, bytes.length - 65557); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      endOffset = i;
      break;
    }
  }
  if (endOffset < 0) fail('zip.invalid', 'The zip archive has no end-of-central-directory record.');
  const entryCount = bytes.readUInt16LE(endOffset + 10);
  if (entryCount === 0) fail('zip.entries', 'The zip archive contains no file.');
  let centralOffset = bytes.readUInt32LE(endOffset + 16);
  if (centralOffset === 0xffffffff) fail('zip.unsupported', 'Zip64 archives are not supported.');
  const entries: { entryName: string; content: Buffer }[] = [];
  let total = 0;
  for (let index = 0; index < entryCount; index++) {
    if (centralOffset + CENTRAL_HEADER_SIZE > endOffset || bytes.readUInt32LE(centralOffset) !== 0x02014b50) {
      fail('zip.invalid', 'The central directory of the zip archive is damaged.');
    }
    const flags = bytes.readUInt16LE(centralOffset + 8);
    const method = bytes.readUInt16LE(centralOffset + 10);
    const crc = bytes.readUInt32LE(centralOffset + 16);
    const compressedSize = bytes.readUInt32LE(centralOffset + 20);
    const uncompressedSize = bytes.readUInt32LE(centralOffset + 24);
    const nameLength = bytes.readUInt16LE(centralOffset + 28);
    const extraLength = bytes.readUInt16LE(centralOffset + 30);
    const commentLength = bytes.readUInt16LE(centralOffset + 32);
    const localOffset = bytes.readUInt32LE(centralOffset + 42);
    if ((flags & 0x1) !== 0) fail('zip.unsupported', 'Encrypted zip entries are not supported.');
    if (method !== 0 && method !== 8) fail('zip.unsupported', 'The zip entry must be stored or deflated.');
    total += uncompressedSize;
    if (total > maxUncompressed) fail('zip.too-large', 'The zipped file is too large once uncompressed.');
    const entryName = bytes.toString(
      'latin1',
      centralOffset + CENTRAL_HEADER_SIZE,
      centralOffset + CENTRAL_HEADER_SIZE + nameLength,
    );
    if (localOffset + LOCAL_HEADER_SIZE > bytes.length || bytes.readUInt32LE(localOffset) !== 0x04034b50) {
      fail('zip.invalid', 'The local header of the zip entry is damaged.');
    }
    const localNameLength = bytes.readUInt16LE(localOffset + 26);
    const localExtraLength = bytes.readUInt16LE(localOffset + 28);
    if (
      bytes.toString(
        'latin1',
        localOffset + LOCAL_HEADER_SIZE,
        localOffset + LOCAL_HEADER_SIZE + localNameLength,
      ) !== entryName
    ) {
      fail('zip.invalid', 'The zip entry names in the local header and the central directory differ.');
    }
    const dataStart = localOffset + LOCAL_HEADER_SIZE + localNameLength + localExtraLength;
    if (dataStart + compressedSize > bytes.length) fail('zip.invalid', 'The zip entry is truncated.');
    const data = bytes.subarray(dataStart, dataStart + compressedSize);
    let content: Buffer = Buffer.alloc(0);
    try {
      content =
        method === 0
          ? Buffer.from(data)
          : zlib.inflateRawSync(data, { maxOutputLength: Math.max(1, uncompressedSize) });
    } catch {
      fail('zip.invalid', 'The zip entry cannot be decompressed (or inflates beyond its declared size).');
    }
    if (content.length !== uncompressedSize)
      fail('zip.invalid', 'The zip entry size does not match its header.');
    if (zlib.crc32(content) >>> 0 !== crc) fail('zip.crc', 'The zip entry is corrupt (CRC mismatch).');
    entries.push({ entryName, content });
    centralOffset += CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The one file of a zip as the STS exchanges them (730 files: exactly one XML inside). */
export function readZipArchive(
  bytes: Buffer,
  options: ReadZipOptions = {},
): { entryName: string; content: Buffer } {
  const entries = readZipEntries(bytes, options);
  if (entries.length !== 1) {
    throw new ZipArchiveError(
      'zip.entries',
      `The zip archive must contain exactly one file; it contains ${entries.length}.`,
    );
  }
  return entries[0]!;
}
