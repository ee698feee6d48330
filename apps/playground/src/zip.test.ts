import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ZipError, crc32, readZip, writeZip } from './zip';

const hasPython = (() => {
  try {
    execFileSync('python3', ['-c', 'import zipfile'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe('crc32', () => {
  it('gives the standard check value of "123456789" (0xCBF43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  it('agrees with zlib.crc32 on random data of many lengths', () => {
    for (const n of [0, 1, 7, 255, 4096, 65537]) {
      const b = randomBytes(n, n + 1);
      expect(crc32(b)).toBe(zlib.crc32(b));
    }
  });
});

describe('writeZip / readZip', () => {
  const entries = [
    { name: 'adapter_config.json', data: new TextEncoder().encode('{"r": 4}\n') },
    { name: 'adapter_model.safetensors', data: randomBytes(10_000, 7) },
    { name: 'sub/empty.txt', data: new Uint8Array(0) },
  ];

  it('reads back exactly what it wrote', () => {
    const back = readZip(writeZip(entries));
    expect(back.map((e) => e.name)).toEqual(entries.map((e) => e.name));
    back.forEach((e, i) => expect(Buffer.from(e.data).equals(Buffer.from(entries[i]!.data))).toBe(true));
  });

  it('is deterministic', () => {
    expect(Buffer.from(writeZip(entries)).equals(Buffer.from(writeZip(entries)))).toBe(true);
  });

  it('detects a corrupted byte through the CRC', () => {
    const zip = writeZip(entries);
    const at = 30 + 'adapter_config.json'.length + 2; // inside the first entry's data
    zip[at] = zip[at]! ^ 0xff;
    expect(() => readZip(zip)).toThrow(/CRC-32/);
  });

  it('refuses unsafe or duplicated names', () => {
    for (const name of ['../x', '/abs', 'a//b', 'a\\b', '']) expect(() => writeZip([{ name, data: new Uint8Array(1) }])).toThrow(ZipError);
    expect(() => writeZip([entries[0]!, entries[0]!])).toThrow(/duplicated/);
  });

  it.skipIf(!hasPython)('is read by Python zipfile (testzip passes, same bytes)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-zip-'));
    try {
      const file = path.join(dir, 'a.zip');
      fs.writeFileSync(file, writeZip(entries));
      const script = [
        'import sys, zipfile, hashlib, json',
        'z = zipfile.ZipFile(sys.argv[1])',
        'assert z.testzip() is None',
        'print(json.dumps({i.filename: [i.compress_type, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()}))',
      ].join('\n');
      const out = JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as Record<string, [number, string]>;
      for (const e of entries) {
        const sha = crypto.createHash('sha256').update(e.data).digest('hex');
        expect(out[e.name]).toEqual([0, sha]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
