// Loading the in-page runner (src/web/tagi-browser.ts, built to /web/tagi-browser.js) into a page: the
// bundle is imported from the URL the server names, only when the user asks for an in-page run, so the
// page itself stays small. Shared by the playground page and the standalone in-page page.
import type { InPageTagi, LoadOptions, ProgressListener } from '../web/tagi-browser';
import type { InPageAnswer } from './api';

/** The runner bundle's exports (its module type; nothing of it is bundled into the page). */
export type RunnerModule = typeof import('../web/tagi-browser');

/** Imports the runner bundle and loads the dir's TAGI model with it; throws the server's reason when it cannot run here. */
export async function loadRunner(
  desc: InPageAnswer,
  subject: string,
  onProgress: ProgressListener,
  options: LoadOptions = {},
): Promise<{ module: RunnerModule; runner: InPageTagi }> {
  if (!desc.available) throw new Error(`${subject}: ${desc.reason}`);
  const module = (await import(/* @vite-ignore */ desc.bundle)) as RunnerModule;
  const runner = await module.loadInPage(desc, onProgress, options);
  return { module, runner };
}

/** `?threads=N` in the page's URL (the bench compares N threads with one), else undefined: every core. */
export function threadsFromUrl(): number | undefined {
  const given = new URLSearchParams(window.location.search).get('threads');
  if (given === null) return undefined;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads: expected a whole number ≥ 1 in the page's URL, got ${JSON.stringify(given)}`);
  return n;
}
