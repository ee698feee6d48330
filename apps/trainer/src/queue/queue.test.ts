// Teachers and evaluation through BullMQ on a real redis-server (a free loopback port, no persistence),
// with `tagi worker` processes started from source: the queued results must equal the single-process
// ones — teacher adapters byte for byte (also when a worker is killed with SIGKILL mid-job and another
// resumes its job), evaluation numbers exactly (also across a Redis restart in the middle) —
// and a job failing on bad data fails once, with its message, without holding up the others.
// Without redis-server the suite is skipped with a message.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { readRunState } from '@tagi/run-dir/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTaskData } from '../data/tasks.js';
import { type RunInvocation, parseInvocation } from '../cli/invocation.js';
import { main } from '../cli/main.js';
import { readResults } from '../results/results.js';
import { Run, configHash } from '../run/run.js';
import { captureIO } from '../common/test-helpers.js';
import { parseQueueUrl } from './cli.js';
import { enqueue, failedJobsError, openQueue, waitForJobs } from './enqueue.js';
import { type JobProgress, type TeacherJobData, QUEUE_NAME, connection, jobId, runId } from './jobs.js';
import { NO_REDIS_MESSAGE, type RedisServer, findRedisServer, startRedis } from './redis-harness.js';
import { teacherJobSpecs } from './teachers.js';

const appDir = path.resolve(import.meta.dirname, '..', '..');
const tsx = pathToFileURL(path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
const redisBin = findRedisServer();
if (redisBin === undefined) console.warn(NO_REDIS_MESSAGE);

// long enough per teacher (≈ 16 updates) that a worker can be killed in the middle of one
const SMOKE = ['--preset=smoke', '--backend=cpu', '--teachers.train.steps=16'];

async function tagi(argv: string[]) {
  const io = captureIO();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

interface WorkerProcess {
  child: ChildProcess;
  out(): string;
}

const workers: WorkerProcess[] = [];
/** `tagi worker` from source; a short lock so a killed worker's job moves on within seconds. */
function startWorker(url: string): WorkerProcess {
  const child = spawn(process.execPath, ['--import', tsx, path.join(appDir, 'src', 'cli.ts'), 'worker', `--queue=${url}`, '--lock-seconds=3'], {
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(appDir, 'tsconfig.json'), FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const w = { child, out: () => out };
  workers.push(w);
  return w;
}
const alive = (w: WorkerProcess) => w.child.exitCode === null && w.child.signalCode === null;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The pretrained hypernetwork of the first seed (pretraining writes one per seed: hypernet-pretrained/seed-N). */
const hypernetDir = () => dir(`hn/hypernet-pretrained/${readdirSync(dir('hn/hypernet-pretrained')).sort()[0]}`);

const root = mkdtempSync(path.join(os.tmpdir(), 'tagi-queue-'));
const dir = (n: string) => path.join(root, n);
let redis: RedisServer;

describe.skipIf(redisBin === undefined)('teachers and eval on a BullMQ queue (real redis-server)', () => {
  beforeAll(async () => {
    redis = await startRedis(redisBin as string);
    // workers start (tsx + tfjs) while the reference runs
    startWorker(redis.url);
    startWorker(redis.url);
    const base = await tagi(['base', '--preset=smoke', '--backend=cpu', `--run-dir=${dir('base')}`]);
    expect(base.err).toBe('');
    const ref = await tagi(['teachers', ...SMOKE, `--model=${dir('base/base-model')}`, `--run-dir=${dir('ref')}`]);
    expect(ref.err).toBe('');
    expect(ref.code).toBe(0);
    // a (barely) pretrained hypernetwork: evaluation's TAGI row goes through the generate-once path
    const hn = await tagi(['pretrain', '--preset=smoke', '--backend=cpu', `--model=${dir('base/base-model')}`, `--run-dir=${dir('hn')}`]);
    expect(hn.code).toBe(0);
  }, 150_000);

  afterAll(async () => {
    for (const w of workers) if (alive(w)) w.child.kill('SIGKILL');
    await redis?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('trains the teachers through 2 workers, one killed with SIGKILL mid-job, to the bytes of the single-process run', async () => {
    const q = parseQueueUrl(redis.url);
    const watcher = new Queue(QUEUE_NAME, { connection: connection(q, 'enqueuer') });
    try {
      const enqueuer = tagi(['teachers', ...SMOKE, `--model=${dir('base/base-model')}`, `--run-dir=${dir('queued')}`, `--queue=${redis.url}`]);
      // the first job past its second update (a checkpoint is written every 2) and well before its last
      // (progress is reported at most every 200 ms): kill its worker
      let killed: { pid: number; job: string } | undefined;
      await until(
        'a job in the middle of its training',
        async () => {
          for (const j of await watcher.getActive()) {
            const p = j.progress as unknown as JobProgress | number;
            const pid = typeof p === 'object' ? Number(p.worker.split(':').pop()) : Number.NaN;
            const w = workers.find((x) => x.child.pid === pid && alive(x));
            if (typeof p === 'object' && p.step >= 3 && p.step <= p.total / 2 && w !== undefined) {
              w.child.kill('SIGKILL');
              killed = { pid, job: j.id as string };
              return true;
            }
          }
          return false;
        },
        60_000,
      );
      const r = await enqueuer;
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      // the killed worker's job was detected as stalled and finished by the other worker
      const survivor = workers.find((w) => alive(w) && w.child.pid !== killed?.pid) as WorkerProcess;
      const job = await watcher.getJob(killed?.job as string);
      expect(await job?.getState()).toBe('completed');
      expect(job?.stalledCounter).toBe(1);
      expect(job?.processedBy).toContain(`:${survivor.child.pid}`);
      expect(survivor.out()).toMatch(/after 1 stalled worker\(s\)/);
      expect(survivor.out()).toMatch(/resuming from the checkpoint of step \d+/);
      // no job was done twice: no worker lost the lock of a job it was still doing (a slow first load does
      // not count as a stall), none found its teacher written by another
      for (const w of workers) expect(w.out()).not.toMatch(/Missing lock|could not renew lock|already written/);

      // every teacher equals the single-process one byte for byte, and the run state records the same outputs
      const groups = readdirSync(dir('ref/teachers')).sort();
      expect(groups.length).toBeGreaterThan(3);
      expect(readdirSync(dir('queued/teachers')).sort()).toEqual(groups); // no temporary dir left
      for (const g of groups) {
        for (const f of ['adapter_model.safetensors', 'adapter_config.json']) {
          expect(readFileSync(dir(`queued/teachers/${g}/${f}`)).equals(readFileSync(dir(`ref/teachers/${g}/${f}`))), `${g}/${f}`).toBe(true);
        }
      }
      expect(
        readFileSync(dir('queued/multitask-adapter/adapter_model.safetensors')).equals(readFileSync(dir('ref/multitask-adapter/adapter_model.safetensors'))),
      ).toBe(true);
      const outputs = (run: string) => Object.entries(readRunState(dir(run))!.stages).map(([k, s]) => [k, s.status, s.outputs, s.summary]);
      expect(outputs('queued')).toEqual(outputs('ref'));
      expect(existsSync(dir('queued/checkpoints'))).toBe(false);
    } finally {
      await watcher.close();
    }
  }, 150_000);

  it('fails a bad-data job once with its message, without holding up the other jobs', async () => {
    const q = parseQueueUrl(redis.url);
    if (workers.filter(alive).length < 2) startWorker(redis.url);
    const io = captureIO();
    const inv = parseInvocation(
      ['teachers', '--preset=smoke', '--backend=cpu', '--teachers.train.steps=2', `--model=${dir('base/base-model')}`, `--run-dir=${dir('bad')}`],
      io,
    ) as RunInvocation;
    const run = await Run.open(inv, []);
    const queue = openQueue(q);
    try {
      const data = await loadTaskData(run.config, () => undefined);
      const [good] = teacherJobSpecs(run, data, 'cpu');
      // a bank this run's data does not have (as when a worker's copy of --data lacks a task)
      const badData: TeacherJobData = { ...good!.data, stage: 'teachers/no-such-bank', groups: ['no-such-group'] };
      const bad = { id: jobId('teacher', runId(run.dir), configHash(run.config), 'teachers/no-such-bank'), label: 'teachers/no-such-bank', data: badData };
      const specs = [bad, good!]; // the bad job first: the good one must still run
      await enqueue(queue, specs);
      const completed: string[] = [];
      const failures = await waitForJobs(run, q, queue, 'teachers', specs, async (s) => void completed.push(s.label), { pollMs: 100 });
      const message = `teacher bank 'teachers/no-such-bank' (1 groups from 'no-such-group') is not a bank of the data of ${run.dir}`;
      expect(failures).toEqual([{ label: 'teachers/no-such-bank', reason: expect.stringContaining(message) }]);
      expect(completed).toEqual([good!.label]);
      const job = await queue.getJob(bad.id);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsMade).toBe(1); // failed once, not retried
      expect(io.out()).toContain(`teachers/no-such-bank: FAILED`);
      expect(io.out()).toContain(message);
      const err = failedJobsError(run, q, 'teachers', specs.length, failures);
      expect(err.exitCode).toBe(2);
      expect(err.message).toContain(`1 of 2 teachers jobs failed`);
      expect(err.message).toContain(`continue with: tagi teachers --resume --run-dir=${run.dir} --queue=${q.url}`);
    } finally {
      await queue.close();
      run.close();
    }
  }, 90_000);

  it('evaluates through 2 workers across a Redis restart, with the single-process numbers', async () => {
    const args = [
      'eval',
      '--preset=smoke',
      '--backend=cpu',
      `--model=${dir('base/base-model')}`,
      `--adapter=${dir('ref/multitask-adapter')}`,
      `--hypernet=${hypernetDir()}`,
    ];
    const ref = await tagi([...args, `--run-dir=${dir('eval-single')}`]);
    expect(ref.err).toBe('');
    expect(ref.code).toBe(0);
    if (workers.filter(alive).length < 2) startWorker(redis.url);
    const seen = workers.map((w) => w.out().length);
    const queued = tagi([...args, `--run-dir=${dir('eval-queued')}`, `--queue=${redis.url}`]);
    // Redis restarts mid-wait, empty (no persistence): the workers must reconnect by themselves, and the
    // waiting command must queue the lost jobs again; results of jobs done before stay collected
    await until('a first eval job done', () => workers.some((w, i) => /eval\/\S+: done/.test(w.out().slice(seen[i]))), 60_000);
    await redis.restart();
    const afterRestart = workers.map((w) => w.out().length);
    const r = await queued;
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/job missing from the queue \(Redis restarted without persistence\?\); queued again/);
    // the same summary (scores, CIs, differences, rows) apart from measured wall time; the same FLOPs
    // estimates and per-family means
    const numbers = (run: string) => {
      const r = readResults(dir(run));
      if (r === undefined) throw new Error(`${run}: no results.json`);
      return {
        summary: { ...r.summary, rows: r.summary.rows.map((row) => ({ ...row, relativeTime: null })) },
        byFamily: r.facts.byFamily,
        flops: Object.fromEntries(Object.entries(r.facts.cost).map(([m, c]) => [m, [c.flopsPerInstance, c.relativeFlops]])),
      };
    };
    const single = numbers('eval-single');
    expect(numbers('eval-queued')).toEqual(single);
    expect(single.summary.rows.filter((row) => row.kind === 'method').map((row) => row.method)).toEqual([
      'no-adapter',
      'multitask',
      'tagi',
      'tagi-wrong-instruction',
      'tagi-empty-instruction',
    ]);
    // every evaluation setting the config asks for was scored (a column per setting, each with scores)
    expect(single.summary.columns.length).toBeGreaterThan(1);
    for (const col of single.summary.columns) expect(single.summary.rows[0]?.scores[col.key]?.rougeL, col.key).not.toBeNull();
    // both workers reconnected and took jobs after the restart
    const tookEval = workers.filter((w, i) => alive(w) && /eval\/\S+: done/.test(w.out().slice(afterRestart[i])));
    expect(tookEval.length).toBe(2);
  }, 120_000);
});
