// A store-only (no compression) ZIP writer and reader: enough to hand a peft adapter dir to a browser
// download and to read it back in tests. Layout per APPNOTE 6.3: local file headers + data, then the
// central directory, then the end-of-central-directory record. No ZIP64: every entry and the whole
// archive must stay below 4 GiB, which a LoRA for T5 is far from.

export class ZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipError';
  }
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as used by ZIP and gzip. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipEntry {
  /** Path inside the archive, '/'-separated, no leading '/', no '..' segments. */
  readonly name: string;
  readonly data: Uint8Array;
}

const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
const UTF8_FLAG = 1 << 11;
const MAX_U32 = 0xffffffff;

function checkEntryName(name: string): void {
  if (name.length === 0 || name.startsWith('/') || name.includes('\\') || name.split('/').some((s) => s === '..' || s === '')) {
    throw new ZipError(`zip entry name ${JSON.stringify(name)}: expected a relative '/'-separated path without '..' or empty segments`);
  }
}

/** DOS date/time fields for a fixed timestamp so the same files always give the same bytes. */
function dosDateTime(date: Date): { time: number; date: number } {
  const year = Math.max(1980, date.getUTCFullYear());
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | Math.floor(date.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) | date.getUTCDate(),
  };
}

/** Writes a store-only ZIP. Deterministic: entries in the given order, one fixed timestamp. */
export function writeZip(entries: readonly ZipEntry[], opts: { mtime?: Date } = {}): Uint8Array {
  const stamp = dosDateTime(opts.mtime ?? new Date(Date.UTC(2024, 0, 1)));
  const encoder = new TextEncoder();
  const seen = new Set<string>();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    checkEntryName(entry.name);
    if (seen.has(entry.name)) throw new ZipError(`zip entry name ${JSON.stringify(entry.name)}: duplicated`);
    seen.add(entry.name);
    const name = encoder.encode(entry.name);
    const size = entry.data.length;
    if (size >= MAX_U32) throw new ZipError(`zip entry ${entry.name}: ${size} bytes needs ZIP64, not supported`);
    const crc = crc32(entry.data);

    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL_SIG, true);
    lv.setUint16(4, 20, true); // version needed: 2.0
    lv.setUint16(6, UTF8_FLAG, true);
    lv.setUint16(8, 0, true); // method 0 = stored
    lv.setUint16(10, stamp.time, true);
    lv.setUint16(12, stamp.date, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, size, true); // compressed size = size (stored)
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, 0, true); // extra length
    local.set(name, 30);

    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, CENTRAL_SIG, true);
    cv.setUint16(4, (3 << 8) | 20, true); // made by: Unix, 2.0 (so the mode below is read)
    cv.setUint16(6, 20, true);
    cv.setUint16(8, UTF8_FLAG, true);
    cv.setUint16(10, 0, true);
    cv.setUint16(12, stamp.time, true);
    cv.setUint16(14, stamp.date, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, size, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, 0, true); // extra
    cv.setUint16(32, 0, true); // comment
    cv.setUint16(34, 0, true); // disk number
    cv.setUint16(36, 0, true); // internal attributes
    cv.setUint32(38, (0o100644 << 16) >>> 0, true); // external attributes: regular file rw-r--r--
    cv.setUint32(42, offset, true);
    central.set(name, 46);

    locals.push(local, entry.data);
    centrals.push(central);
    offset += local.length + size;
    if (offset >= MAX_U32) throw new ZipError(`zip archive larger than 4 GiB needs ZIP64, not supported`);
  }
  if (entries.length > 0xffff) throw new ZipError(`zip with ${entries.length} entries needs ZIP64, not supported`);
  const centralSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, END_SIG, true);
  ev.setUint16(8, entries.length, true); // entries on this disk
  ev.setUint16(10, entries.length, true); // entries total
  ev.setUint32(12, centralSize, true);
  ev.setUint32(16, offset, true); // central directory offset
  const out = new Uint8Array(offset + centralSize + end.length);
  let at = 0;
  for (const part of [...locals, ...centrals, end]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Reads a store-only ZIP (what writeZip writes, or any archive whose entries are stored) through its
 * central directory, checking every CRC-32 and that each local header agrees with the directory.
 */
export function readZip(bytes: Uint8Array): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let endAt = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === END_SIG) {
      endAt = i;
      break;
    }
  }
  if (endAt < 0) throw new ZipError('zip: end of central directory record not found');
  const count = view.getUint16(endAt + 10, true);
  const centralSize = view.getUint32(endAt + 12, true);
  let at = view.getUint32(endAt + 16, true);
  if (at + centralSize > endAt) throw new ZipError('zip: central directory runs past its end record');
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== CENTRAL_SIG) throw new ZipError(`zip: central entry ${i}: bad signature`);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLen = view.getUint16(at + 28, true);
    const extraLen = view.getUint16(at + 30, true);
    const commentLen = view.getUint16(at + 32, true);
    const localAt = view.getUint32(at + 42, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLen));
    if (method !== 0) throw new ZipError(`zip entry ${name}: compression method ${method}, only 0 (stored) is read`);
    if (compressed !== size) throw new ZipError(`zip entry ${name}: stored entry with compressed size ${compressed} != size ${size}`);
    if (view.getUint32(localAt, true) !== LOCAL_SIG) throw new ZipError(`zip entry ${name}: bad local header signature`);
    const localNameLen = view.getUint16(localAt + 26, true);
    const localExtraLen = view.getUint16(localAt + 28, true);
    const localName = decoder.decode(bytes.subarray(localAt + 30, localAt + 30 + localNameLen));
    if (localName !== name) throw new ZipError(`zip entry ${name}: local header names ${localName}`);
    const dataAt = localAt + 30 + localNameLen + localExtraLen;
    if (dataAt + size > bytes.length) throw new ZipError(`zip entry ${name}: data runs past the end of the archive`);
    const data = bytes.slice(dataAt, dataAt + size);
    const actual = crc32(data);
    if (actual !== crc) throw new ZipError(`zip entry ${name}: CRC-32 ${actual.toString(16)} != recorded ${crc.toString(16)}`);
    entries.push({ name, data });
    at += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
