// A local node:http server that answers like the Hugging Face Hub for fixture repos (test and script helper;
// not exported by the package). It serves what the clients were observed to ask for: @huggingface/hub's model
// info (GET /api/models/<repo>/revision/<rev>), paths-info (POST /api/models/<repo>/paths-info/<rev>) and file
// downloads (GET, with or without a Range, /<repo>/resolve/<rev>/<file>), and Python huggingface_hub's HEAD on
// the same download URL (X-Repo-Commit, ETag / X-Linked-Etag, X-Linked-Size). Error answers carry the Hub's
// X-Error-Code (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound). Every request is recorded.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FixtureRepo {
  /** Directory whose files are the repo's files at `commit`. */
  dir: string;
  /** 40-hex commit sha the repo's `main` (and any other ref given) points to. */
  commit: string;
  /** Other refs (branches, tags) → commit; `main` → commit is implied. */
  refs?: Record<string, string>;
  /** Files stored with Git LFS (etag = sha256); default: *.safetensors. */
  lfs?: (file: string) => boolean;
  /** Requires `Authorization: Bearer <token>` with the server's token. */
  gated?: boolean;
}

export interface HubFixture {
  url: string;
  /** `METHOD /path` of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

interface FileInfo {
  path: string;
  size: number;
  oid: string; // git blob id
  sha256: string;
  lfs: boolean;
}

function listFiles(dir: string, isLfs: (f: string) => boolean): Map<string, FileInfo> {
  const out = new Map<string, FileInfo>();
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else {
        const bytes = fs.readFileSync(path.join(d, e.name));
        const oid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
        out.set(rel, { path: rel, size: bytes.length, oid, sha256: createHash('sha256').update(bytes).digest('hex'), lfs: isLfs(rel) });
      }
    }
  };
  walk(dir, '');
  return out;
}

export async function startHubFixture(repos: Record<string, FixtureRepo>, opts: { token?: string } = {}): Promise<HubFixture> {
  const requests: string[] = [];
  const files = new Map(Object.entries(repos).map(([id, r]) => [id, listFiles(r.dir, r.lfs ?? ((f) => f.endsWith('.safetensors')))]));
  const fail = (res: http.ServerResponse, status: number, code: string | undefined, message: string) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...(code ? { 'X-Error-Code': code, 'X-Error-Message': message } : {}) });
    res.end(JSON.stringify({ error: message }));
  };
  // the repo part of a path: 'org/name' or 'name' followed by a marker segment
  const split = (rest: string, marker: string): [string, string] | undefined => {
    const i = rest.indexOf(`/${marker}/`);
    return i < 0 ? undefined : [rest.slice(0, i), rest.slice(i + marker.length + 2)];
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const pathname = decodeURIComponent(url.pathname);
    requests.push(`${req.method} ${pathname}`);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const api = pathname.startsWith('/api/models/') ? pathname.slice('/api/models/'.length) : undefined;
      const parts = api ? (split(api, 'revision') ?? split(api, 'paths-info')) : split(pathname.slice(1), 'resolve');
      if (!parts) return fail(res, 404, undefined, `fixture server: no route for ${req.method} ${pathname}`);
      const [repoId, after] = parts;
      const repo = repos[repoId];
      if (!repo) return fail(res, 401, 'RepoNotFound', `Repository Not Found for url: ${url.href}.`);
      if (repo.gated && req.headers.authorization !== `Bearer ${opts.token}`) {
        return fail(res, 401, 'GatedRepo', `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
      }
      const refs: Record<string, string> = { main: repo.commit, ...repo.refs };
      // the revision is the first segment of what follows, or all of it for refs with slashes (refs/pr/1)
      const revOf = (s: string): [string, string] | undefined => {
        for (const r of [...Object.keys(refs).sort((a, b) => b.length - a.length), repo.commit]) {
          if (s === r || s.startsWith(`${r}/`)) return [r, s.slice(r.length + 1)];
        }
        return undefined;
      };
      const found = revOf(after);
      if (!found) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${after.split('/')[0]}`);
      const [rev, rest] = found;
      const commit = refs[rev] ?? rev;
      if (commit !== repo.commit) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const repoFiles = files.get(repoId)!;
      if (api && api.includes('/revision/')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ _id: `fixture-${repoId}`, id: repoId, sha: commit, private: false, gated: repo.gated ? 'manual' : false, downloads: 0, likes: 0, lastModified: '2026-01-01T00:00:00.000Z', pipeline_tag: 'text2text-generation' }));
      }
      if (api) {
        const wanted = (JSON.parse(body || '{}') as { paths?: string[] }).paths ?? [];
        const out = wanted.flatMap((p) => {
          const f = repoFiles.get(p);
          if (!f) return [];
          return [{ type: 'file', path: f.path, oid: f.oid, size: f.size, ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: 134 } } : {}) }];
        });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify(out));
      }
      const f = repoFiles.get(rest);
      if (!f) return fail(res, 404, 'EntryNotFound', `${rest} does not exist on "${rev}"`);
      const bytes = fs.readFileSync(path.join(repo.dir, ...rest.split('/')));
      const etag = f.lfs ? f.sha256 : f.oid;
      const headers: Record<string, string> = {
        'Content-Type': 'application/octet-stream',
        'Accept-Ranges': 'bytes',
        ETag: `"${etag}"`,
        'X-Repo-Commit': commit,
        ...(f.lfs ? { 'X-Linked-Etag': `"${etag}"`, 'X-Linked-Size': String(f.size) } : {}),
      };
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : f.size - 1, f.size - 1);
        res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${f.size}`, 'Content-Length': String(end - start + 1) });
        return res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
      }
      res.writeHead(200, { ...headers, 'Content-Length': String(f.size) });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    });
  });
  server.keepAliveTimeout = 60_000; // longer than any test: no idle connection is closed under a client
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections(); // the clients keep connections alive
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
