// A local node:http server that answers like the Hugging Face Hub for fixture repos (test and script helper,
// exported under `@tagi/t5-model/testing`). It serves what the clients were observed to ask for: @huggingface/hub's
// model info (GET /api/models/<repo>/revision/<rev>), paths-info (POST /api/models/<repo>/paths-info/<rev>) and file
// downloads (GET, with or without a Range, /<repo>/resolve/<rev>/<file>), and Python huggingface_hub's HEAD on the
// same download URL (X-Repo-Commit, ETag / X-Linked-Etag, X-Linked-Size). Error answers carry the Hub's X-Error-Code
// (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound). Every request is recorded.
//
// It also takes what @huggingface/hub's `createRepo` and `uploadFiles` / `commit` send, with the server's token:
// POST /api/repos/create (409 when the repo exists), POST /api/models/<repo>/preupload/<rev> (*.safetensors and
// files over 10 MB go by LFS, as the Hub's default .gitattributes says), the LFS batch API
// (POST /<repo>.git/info/lfs/objects/batch, "basic" transfer: a PUT of the bytes, checked against their sha256)
// and POST /api/models/<repo>/commit/<rev> (NDJSON: header, file, lfsFile, deletedFile), which makes a new commit
// the branch points to; earlier commits stay readable by their sha.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export interface FixtureRepo {
  /** Directory whose files are the repo's files at `commit` (read once, when the server starts). */
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
  /** The files of a repo at a revision (default main), by path: what a push left there. Undefined for an unknown repo or revision. */
  files(repo: string, revision?: string): Map<string, Buffer> | undefined;
  close(): Promise<void>;
}

interface FileInfo {
  path: string;
  size: number;
  oid: string; // git blob id
  sha256: string;
  lfs: boolean;
  bytes: Buffer;
}

interface RepoState {
  refs: Record<string, string>;
  /** commit sha → its files */
  commits: Map<string, Map<string, FileInfo>>;
  gated: boolean;
}

function fileInfo(rel: string, bytes: Buffer, lfs: boolean): FileInfo {
  const oid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
  return { path: rel, size: bytes.length, oid, sha256: createHash('sha256').update(bytes).digest('hex'), lfs, bytes };
}

function listFiles(dir: string, isLfs: (f: string) => boolean): Map<string, FileInfo> {
  const out = new Map<string, FileInfo>();
  const walk = (d: string, prefix: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), rel);
      else out.set(rel, fileInfo(rel, fs.readFileSync(path.join(d, e.name)), isLfs(rel)));
    }
  };
  walk(dir, '');
  return out;
}

/** What the Hub's default .gitattributes sends through LFS (the part of it our files meet). */
const goesByLfs = (file: string, size: number) => /\.(safetensors|bin|h5|msgpack|pt|pth|ckpt|onnx|zip|gz)$/.test(file) || size > 10 * 1024 * 1024;

export async function startHubFixture(repos: Record<string, FixtureRepo>, opts: { token?: string } = {}): Promise<HubFixture> {
  const requests: string[] = [];
  const state = new Map<string, RepoState>(
    Object.entries(repos).map(([id, r]) => [
      id,
      {
        refs: { main: r.commit, ...r.refs },
        commits: new Map([[r.commit, listFiles(r.dir, r.lfs ?? ((f) => f.endsWith('.safetensors')))]]),
        gated: r.gated === true,
      },
    ]),
  );
  /** LFS objects uploaded and not yet committed (or committed: they stay), by sha256 */
  const lfsStore = new Map<string, Buffer>();
  let commitCounter = 0;
  let baseUrl = '';
  const fail = (res: http.ServerResponse, status: number, code: string | undefined, message: string) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...(code ? { 'X-Error-Code': code, 'X-Error-Message': message } : {}) });
    res.end(JSON.stringify({ error: message }));
  };
  const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const canWrite = (req: http.IncomingMessage) => opts.token !== undefined && req.headers.authorization === `Bearer ${opts.token}`;
  // the repo part of a path: 'org/name' or 'name' followed by a marker segment
  const split = (rest: string, marker: string): [string, string] | undefined => {
    const i = rest.indexOf(`/${marker}/`);
    return i < 0 ? undefined : [rest.slice(0, i), rest.slice(i + marker.length + 2)];
  };

  /** The write side: create, preupload, LFS batch and PUT, commit. True when the request was one of these. */
  function write(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, body: Buffer): boolean {
    const route = `${req.method} ${pathname}`;
    const needAuth = () => {
      fail(res, 401, undefined, 'Invalid credentials in Authorization header');
      return true;
    };
    if (route === 'POST /api/repos/create') {
      if (!canWrite(req)) return needAuth();
      const b = JSON.parse(body.toString('utf8') || '{}') as { name?: string; organization?: string; type?: string };
      const id = b.organization ? `${b.organization}/${b.name}` : String(b.name);
      if (b.type !== undefined && b.type !== 'model') fail(res, 400, undefined, `fixture server: only model repos (got type ${b.type})`);
      else if (state.has(id)) sendJson(res, 409, { error: 'You already created this model repo', url: `${baseUrl}/${id}` });
      else {
        const empty = (++commitCounter).toString(16).padStart(40, 'e');
        state.set(id, { refs: { main: empty }, commits: new Map([[empty, new Map()]]), gated: false });
        sendJson(res, 200, { url: `${baseUrl}/${id}`, name: id, id: `fixture-${id}` });
      }
      return true;
    }
    const lfsUpload = /^\/lfs-upload\/([0-9a-f]{64})$/.exec(pathname);
    if (lfsUpload && req.method === 'PUT') {
      const oid = lfsUpload[1] as string;
      const sha = createHash('sha256').update(body).digest('hex');
      if (sha !== oid) fail(res, 400, undefined, `fixture server: the uploaded bytes have sha256 ${sha}, not ${oid}`);
      else {
        lfsStore.set(oid, body);
        res.writeHead(200, { ETag: `"${oid}"` });
        res.end();
      }
      return true;
    }
    const batch = /^\/(.+)\.git\/info\/lfs\/objects\/batch$/.exec(pathname);
    if (batch && req.method === 'POST') {
      const repo = state.get(batch[1] as string);
      if (!canWrite(req)) return needAuth();
      if (!repo) return (fail(res, 404, 'RepoNotFound', `Repository not found: ${batch[1]}`), true);
      const b = JSON.parse(body.toString('utf8')) as { operation: string; objects: { oid: string; size: number }[] };
      if (b.operation !== 'upload') return (fail(res, 400, undefined, `fixture server: LFS ${b.operation} is not served`), true);
      sendJson(res, 200, {
        transfer: 'basic',
        objects: b.objects.map((o) =>
          lfsStore.has(o.oid)
            ? { oid: o.oid, size: o.size }
            : { oid: o.oid, size: o.size, actions: { upload: { href: `${baseUrl}/lfs-upload/${o.oid}`, header: {} } } },
        ),
      });
      return true;
    }
    const api = pathname.startsWith('/api/models/') ? pathname.slice('/api/models/'.length) : undefined;
    const pre = api && req.method === 'POST' ? split(api, 'preupload') : undefined;
    const com = api && req.method === 'POST' ? split(api, 'commit') : undefined;
    if (!pre && !com) return false;
    const [repoId, rev] = (pre ?? com) as [string, string];
    if (!canWrite(req)) return needAuth();
    const repo = state.get(repoId);
    if (!repo) return (fail(res, 404, 'RepoNotFound', `Repository not found: ${repoId}`), true);
    if (pre) {
      const b = JSON.parse(body.toString('utf8')) as { files: { path: string; size: number }[] };
      sendJson(res, 200, { files: b.files.map((f) => ({ path: f.path, uploadMode: goesByLfs(f.path, f.size) ? 'lfs' : 'regular', shouldIgnore: false })) });
      return true;
    }
    // commit: NDJSON lines {key, value}
    const lines = body
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    const parent = repo.refs[rev];
    if (parent === undefined) return (fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`), true);
    const header = lines.find((l) => l.key === 'header')?.value;
    if (header?.['parentCommit'] !== undefined && header['parentCommit'] !== parent) {
      return (
        fail(res, 412, undefined, `A commit has happened since. Please refresh and try again. (parent ${String(header['parentCommit'])}, head ${parent})`),
        true
      );
    }
    const files = new Map(repo.commits.get(parent));
    for (const { key, value } of lines) {
      const p = String(value['path']);
      if (key === 'file') files.set(p, fileInfo(p, Buffer.from(String(value['content']), value['encoding'] === 'base64' ? 'base64' : 'utf8'), false));
      else if (key === 'lfsFile') {
        const bytes = lfsStore.get(String(value['oid']));
        if (!bytes) return (fail(res, 422, undefined, `lfsFile ${p}: object ${String(value['oid'])} was never uploaded`), true);
        files.set(p, fileInfo(p, bytes, true));
      } else if (key === 'deletedFile') files.delete(p);
    }
    const commit = createHash('sha1')
      .update(`${parent}\n${++commitCounter}\n${String(header?.['summary'] ?? '')}`)
      .digest('hex');
    repo.commits.set(commit, files);
    repo.refs[rev] = commit;
    sendJson(res, 200, { success: true, commitOid: commit, commitUrl: `${baseUrl}/${repoId}/commit/${commit}`, hookOutput: '' });
    return true;
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const pathname = decodeURIComponent(url.pathname);
    requests.push(`${req.method} ${pathname}`);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (write(req, res, pathname, raw)) return;
      const body = raw.toString('utf8');
      const api = pathname.startsWith('/api/models/') ? pathname.slice('/api/models/'.length) : undefined;
      const parts = api ? (split(api, 'revision') ?? split(api, 'paths-info')) : split(pathname.slice(1), 'resolve');
      if (!parts) return fail(res, 404, undefined, `fixture server: no route for ${req.method} ${pathname}`);
      const [repoId, after] = parts;
      const repo = state.get(repoId);
      if (!repo) return fail(res, 401, 'RepoNotFound', `Repository Not Found for url: ${url.href}.`);
      if (repo.gated && req.headers.authorization !== `Bearer ${opts.token}`) {
        return fail(
          res,
          401,
          'GatedRepo',
          `Access to model ${repoId} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        );
      }
      // the revision is the first segment of what follows, or all of it for refs with slashes (refs/pr/1)
      const revOf = (s: string): [string, string] | undefined => {
        for (const r of [...Object.keys(repo.refs).sort((a, b) => b.length - a.length), ...repo.commits.keys()]) {
          if (s === r || s.startsWith(`${r}/`)) return [r, s.slice(r.length + 1)];
        }
        return undefined;
      };
      const found = revOf(after);
      if (!found) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${after.split('/')[0]}`);
      const [rev, rest] = found;
      const commit = repo.refs[rev] ?? rev;
      const repoFiles = repo.commits.get(commit);
      if (!repoFiles) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      if (api && api.includes('/revision/')) {
        return sendJson(res, 200, {
          _id: `fixture-${repoId}`,
          id: repoId,
          sha: commit,
          private: false,
          gated: repo.gated ? 'manual' : false,
          downloads: 0,
          likes: 0,
          lastModified: '2026-01-01T00:00:00.000Z',
          pipeline_tag: 'text2text-generation',
        });
      }
      if (api) {
        const wanted = (JSON.parse(body || '{}') as { paths?: string[] }).paths ?? [];
        const out = wanted.flatMap((p) => {
          const f = repoFiles.get(p);
          if (!f) return [];
          return [{ type: 'file', path: f.path, oid: f.oid, size: f.size, ...(f.lfs ? { lfs: { oid: f.sha256, size: f.size, pointerSize: 134 } } : {}) }];
        });
        return sendJson(res, 200, out);
      }
      const f = repoFiles.get(rest);
      if (!f) return fail(res, 404, 'EntryNotFound', `${rest} does not exist on "${rev}"`);
      const bytes = f.bytes;
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
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: baseUrl,
    requests,
    files: (repo, revision = 'main') => {
      const r = state.get(repo);
      const commit = r === undefined ? undefined : (r.refs[revision] ?? revision);
      const files = commit === undefined ? undefined : r?.commits.get(commit);
      return files && new Map([...files].map(([p, f]) => [p, f.bytes]));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections(); // the clients keep connections alive
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
