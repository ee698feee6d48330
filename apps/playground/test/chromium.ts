// Debian's Chromium driven by Playwright (playwright-core: no browser download). Every launch uses a fresh
// profile and flags that keep it off the network; screenshots go to test-artifacts/ (gitignored).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { loadAdapter } from '@tagi/lora/node';
import { initBackend } from '@tagi/tensor-core';
import { T5ForConditionalGeneration } from '@tagi/t5-model/node';
import { readZip } from '../src/zip';
import { appDir } from './spawn-server';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
const ARTIFACTS = path.join(appDir, 'test-artifacts');
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  // a fresh profile every time: launchPersistentContext passes it as --user-data-dir
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tagi-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Builds dist/web/tagi-browser.js with the app's own bundler config (what `pnpm build` ships). */
export function buildInPageBundle(): void {
  const tsup = path.join(appDir, 'node_modules', 'tsup', 'dist', 'cli-default.js');
  const r = spawnSync(process.execPath, [tsup, '--config', 'tsup.web.config.ts'], { cwd: appDir, encoding: 'utf8', timeout: 5 * 60_000 });
  if (r.status !== 0) throw new Error(`building the in-page bundle failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** Exports the current adapter from the page and loads the peft dir back with @tagi/lora; returns the unzipped folder too. */
export async function exportAndLoad(page: Page, baseDir: string, tmp: string): Promise<{ paths: string[]; r: number; folder: string; files: string[] }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
  const zipFile = path.join(tmp, download.suggestedFilename());
  await download.saveAs(zipFile);
  const out = path.join(tmp, `unzipped-${path.basename(zipFile, '.zip')}`);
  const entries = readZip(new Uint8Array(fs.readFileSync(zipFile)));
  for (const e of entries) {
    fs.mkdirSync(path.join(out, path.dirname(e.name)), { recursive: true });
    fs.writeFileSync(path.join(out, e.name), e.data);
  }
  const folder = path.dirname(entries.find((e) => e.name.endsWith('adapter_config.json'))!.name);
  await initBackend({ backend: 'cpu' });
  const base = await T5ForConditionalGeneration.fromPretrained(baseDir);
  try {
    const set = await loadAdapter(path.join(out, folder), { model: base });
    const res = { paths: set.paths, r: set.config.r, folder: path.join(out, folder), files: entries.map((e) => path.relative(folder, e.name)).sort() };
    set.dispose();
    return res;
  } finally {
    base.dispose();
  }
}
