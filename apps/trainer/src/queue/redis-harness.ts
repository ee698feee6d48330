// Test and bench harness: a throwaway redis-server on a free loopback port, no persistence, stopped by
// the caller. Not part of the CLI. Without a redis-server binary, `findRedisServer()` is undefined and
// the queue tests skip with a message saying how to get one.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';

/** The redis-server binary: $TAGI_REDIS_SERVER, /usr/bin/redis-server (Debian's package), or on PATH. */
export function findRedisServer(): string | undefined {
  const candidates = [process.env['TAGI_REDIS_SERVER'], '/usr/bin/redis-server', '/usr/local/bin/redis-server'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : undefined;
}

export const NO_REDIS_MESSAGE = 'queue tests skipped: no redis-server (apt-get install redis-server, or set TAGI_REDIS_SERVER=/path/to/redis-server)';

/** A free TCP port on 127.0.0.1 (bound then released; the server binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface RedisOptions {
  /** `--requirepass`: the default user's password. */
  readonly requirepass?: string;
  /** ACL users, each a `user` directive's words after the name, e.g. ['tagi', 'on', '>pw', '~*', '&*', '+@all']. */
  readonly users?: readonly (readonly string[])[];
  /** Serve TLS only (no plain port), with this certificate and key. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0` (`rediss://` with TLS), without credentials. */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port (empty: no persistence). */
  restart(): Promise<void>;
}

export async function startRedis(binary: string, opts: RedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = [
    ...(opts.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key, '--tls-auth-clients', 'no']
      : ['--port', String(port)]),
    ...['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    ...(opts.requirepass !== undefined ? ['--requirepass', opts.requirepass] : []),
    ...(opts.users ?? []).flatMap((u) => ['--user', ...u]),
  ];
  const up = async () => {
    child = spawn(binary, args, { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${port}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not listen on 127.0.0.1:${port} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const down = async () => {
    const c = child;
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  await up();
  return {
    port,
    url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}/0`,
    stop: down,
    restart: async () => {
      await down();
      await up();
    },
  };
}
