// safetensors (https://github.com/huggingface/safetensors) parsing and writing on plain bytes, so this
// module runs in a browser. Layout: u64 little-endian header length N, N bytes of JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { string: string } },
// then the data buffer. Every field is checked before anything is allocated from it.
import * as tf from '@tensorflow/tfjs-core';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'U8' | 'BOOL';

export type SafetensorsFault =
  | 'truncated' // fewer than 8 bytes, or the header or data run past the end of the file
  | 'header-too-large' // header length above the cap
  | 'header-json' // header is not valid UTF-8 JSON
  | 'header-schema' // header JSON has the wrong structure (not an object, bad entry fields, bad metadata)
  | 'dtype' // a dtype outside the supported set
  | 'shape' // shape is not a list of non-negative integers
  | 'size-mismatch' // end - begin differs from numel × element size
  | 'offsets-out-of-range' // an offset lies beyond the data buffer
  | 'overlap' // two tensors share bytes
  | 'gap' // bytes between tensors (or after the last) that belong to no tensor
  | 'value-range' // an I64 value that does not fit tfjs's int32
  | 'unsupported-tensor' // a tfjs tensor that cannot be written (e.g. string, complex64)
  | 'io' // the file (or a shard named by an index) cannot be read
  | 'index'; // a sharded checkpoint's index is malformed or disagrees with its shards

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  constructor(
    readonly file: string,
    readonly fault: SafetensorsFault,
    detail: string,
  ) {
    super(`${file}: ${fault}: ${detail}`);
  }
}

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte range within the data buffer (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data buffer within the file (8 + header length). */
  dataOffset: number;
}

export interface ParsedSafetensors {
  /** F16/BF16 arrive as float32, I64/U8 as int32, BOOL as bool. Owned by the caller. */
  tensors: Map<string, tf.Tensor>;
  metadata: Record<string, string>;
  /** The dtype each tensor had in the file. */
  dtypes: Map<string, SafetensorsDtype>;
}

/** Headers larger than this are rejected before decoding (the reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

const ELEMENT_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1, BOOL: 1 };

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(ELEMENT_BYTES, s);
}

/** Validates and decodes the header; reads no tensor data. */
export function parseSafetensorsHeader(bytes: Uint8Array, fileName = '<bytes>', fileSize = bytes.length): SafetensorsHeader {
  const fail = (fault: SafetensorsFault, detail: string): never => {
    throw new SafetensorsError(fileName, fault, detail);
  };
  if (bytes.length < 8) fail('truncated', `file has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail('header-too-large', `header length ${n} exceeds the cap of ${MAX_HEADER_BYTES} bytes`);
  const headerLen = Number(n);
  if (8 + headerLen > fileSize) fail('truncated', `header length ${headerLen} runs past the end of the ${fileSize}-byte file`);
  if (8 + headerLen > bytes.length) fail('truncated', `only ${bytes.length} bytes given for a ${headerLen}-byte header`);
  let json: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen));
    json = JSON.parse(text);
  } catch (e) {
    fail('header-json', `header is not valid UTF-8 JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail('header-schema', 'header must be a JSON object');
  const dataLen = fileSize - 8 - headerLen;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, raw] of Object.entries(json as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('header-schema', '__metadata__ must be an object of strings');
      for (const [mk, mv] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof mv !== 'string') fail('header-schema', `__metadata__.${mk} must be a string, got ${typeof mv}`);
        metadata[mk] = mv as string;
      }
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('header-schema', `'${key}' must be an object`);
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDtype(e.dtype)) {
      fail('dtype', `'${key}' has dtype ${JSON.stringify(e.dtype)}; supported: ${Object.keys(ELEMENT_BYTES).join(', ')}`);
    }
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail('shape', `'${key}' has shape ${JSON.stringify(e.shape)}; expected a list of non-negative integers`);
    }
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail('header-schema', `'${key}' has data_offsets ${JSON.stringify(off)}; expected [begin, end] non-negative integers`);
    }
    const [begin, end] = off as [number, number];
    if (end < begin) fail('header-schema', `'${key}' has data_offsets [${begin}, ${end}] with end before begin`);
    if (end > dataLen) fail('offsets-out-of-range', `'${key}' data_offsets [${begin}, ${end}] exceed the ${dataLen}-byte data buffer`);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel * ELEMENT_BYTES[dtype] !== end - begin) {
      fail('size-mismatch', `'${key}' ${dtype} [${shape.join(', ')}] needs ${numel * ELEMENT_BYTES[dtype]} bytes but data_offsets span ${end - begin}`);
    }
    entries.set(key, { dtype, shape: [...shape], begin, end });
  }
  // The data buffer must be tiled exactly: sorted by begin, each range starts where the last ended.
  const sorted = [...entries].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let cursor = 0;
  let prevKey = '';
  for (const [key, e] of sorted) {
    if (e.begin < cursor) fail('overlap', `'${key}' [${e.begin}, ${e.end}] overlaps '${prevKey}' which ends at ${cursor}`);
    if (e.begin > cursor) fail('gap', `bytes [${cursor}, ${e.begin}) before '${key}' belong to no tensor`);
    cursor = e.end;
    prevKey = key;
  }
  if (cursor !== dataLen) fail('gap', `bytes [${cursor}, ${dataLen}) after the last tensor belong to no tensor`);
  return { entries, metadata, dataOffset: 8 + headerLen };
}

/** IEEE half → float32 value. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero / subnormal
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 → float32: the 16 bits are the top half of the float32 pattern. */
export function bf16ToF32(b: number): number {
  const u = new Uint32Array([(b & 0xffff) << 16]);
  return new Float32Array(u.buffer)[0] as number;
}

// The file format is little-endian; typed-array views are only reinterpreted directly on such hosts.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function decode(bytes: Uint8Array, start: number, e: SafetensorsEntry, key: string, fileName: string): tf.Tensor {
  const n = e.shape.reduce((a, b) => a * b, 1);
  // A fresh copy: aligned, and detached from the file buffer (Buffer#slice would return a view).
  const raw = new Uint8Array(e.end - e.begin);
  raw.set(bytes.subarray(start + e.begin, start + e.end));
  const view = new DataView(raw.buffer);
  switch (e.dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN) return tf.tensor(new Float32Array(raw.buffer), e.shape, 'float32');
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return tf.tensor(out, e.shape, 'float32');
    }
    case 'F16': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
      return tf.tensor(out, e.shape, 'float32');
    }
    case 'BF16': {
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return tf.tensor(new Float32Array(bits.buffer), e.shape, 'float32');
    }
    case 'I32': {
      if (LITTLE_ENDIAN) return tf.tensor(new Int32Array(raw.buffer), e.shape, 'int32');
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      return tf.tensor(out, e.shape, 'int32');
    }
    case 'I64': {
      // tfjs has no int64; values must fit int32 (token ids, positions, counters do).
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new SafetensorsError(fileName, 'value-range', `'${key}' I64 value ${v} at index ${i} does not fit int32`);
        }
        out[i] = Number(v);
      }
      return tf.tensor(out, e.shape, 'int32');
    }
    case 'U8':
      return tf.tensor(Int32Array.from(raw), e.shape, 'int32');
    case 'BOOL':
      return tf.tensor(
        Uint8Array.from(raw, (b) => (b !== 0 ? 1 : 0)),
        e.shape,
        'bool',
      );
  }
}

/**
 * Parses a whole safetensors file held in memory. Throws `SafetensorsError` naming `fileName` and
 * the fault for any malformed input; allocates tensors only after the header has been validated.
 */
export function parseSafetensors(bytes: Uint8Array, fileName = '<bytes>'): ParsedSafetensors {
  const header = parseSafetensorsHeader(bytes, fileName);
  const tensors = new Map<string, tf.Tensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  try {
    for (const [key, e] of header.entries) {
      tensors.set(key, decode(bytes, header.dataOffset, e, key, fileName));
      dtypes.set(key, e.dtype);
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: header.metadata, dtypes };
}

function dtypeFor(t: tf.Tensor, key: string): SafetensorsDtype {
  switch (t.dtype) {
    case 'float32':
      return 'F32';
    case 'int32':
      return 'I32';
    case 'bool':
      return 'BOOL';
    default:
      throw new SafetensorsError('<serialize>', 'unsupported-tensor', `'${key}' has dtype ${t.dtype}, which safetensors cannot hold`);
  }
}

/**
 * Serialises tensors to safetensors bytes: keys sorted, data laid out in key order, `__metadata__`
 * first when given, header padded with spaces to a multiple of 8 (as the reference writer does).
 * The same input always gives the same bytes.
 */
export function serializeSafetensors(tensors: ReadonlyMap<string, tf.Tensor> | Record<string, tf.Tensor>, metadata?: Record<string, string>): Uint8Array {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors as Record<string, tf.Tensor>));
  const keys = [...map.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    const meta: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      const v = metadata[k];
      if (typeof v !== 'string') throw new SafetensorsError('<serialize>', 'header-schema', `metadata.${k} must be a string`);
      meta[k] = v;
    }
    header['__metadata__'] = meta;
  }
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const key of keys) {
    if (key === '__metadata__') throw new SafetensorsError('<serialize>', 'header-schema', "'__metadata__' is reserved and cannot name a tensor");
    const t = map.get(key) as tf.Tensor;
    const dtype = dtypeFor(t, key);
    const values = t.dataSync();
    let data: Uint8Array;
    if (dtype === 'BOOL') data = Uint8Array.from(values as ArrayLike<number>, (v) => (v !== 0 ? 1 : 0));
    else if (LITTLE_ENDIAN) data = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    else {
      data = new Uint8Array(values.length * 4);
      const dv = new DataView(data.buffer);
      for (let i = 0; i < values.length; i++) {
        if (dtype === 'F32') dv.setFloat32(4 * i, values[i] as number, true);
        else dv.setInt32(4 * i, values[i] as number, true);
      }
    }
    header[key] = { dtype, shape: [...t.shape], data_offsets: [offset, offset + data.byteLength] };
    parts.push(data);
    offset += data.byteLength;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}
