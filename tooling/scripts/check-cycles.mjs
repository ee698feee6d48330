#!/usr/bin/env node
// Finds import cycles between the files of each package and app (packages/*, apps/*; their src/ and
// test/). An edge is any relative import of a file by another — `import`, `import type`, `export … from`,
// `import()` — since a reader follows each of them; imports of other packages are the dependency
// direction's business (check-deps.mjs). Prints every cycle as a path and exits 1 if there is one.
//
// In the projects of FOLDER_CHECKED it also finds cycles between *folders* of src/: folder A depends on folder
// B when a file of A imports a file of B, and a reader who opens A should never need a folder that needs A
// again. Test files (*.test.*) are left out of the folder graph: nothing imports them, so they add no file
// cycle, and a test beside the code it tests may drive the whole app (the queue tests run `main`) without
// making its folder depend upward.
//
//   node tooling/scripts/check-cycles.mjs [ROOT]      (ROOT defaults to the repository)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(?:ts|tsx|mts|mjs|js)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', '.turbo', 'coverage']);

/** Source text without comments (so an example in a comment is no import); strings are kept. */
function stripComments(text) {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const n = text[i + 1];
    if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && n === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) {
        if (text[i] === '\n') out += '\n';
        i++;
      }
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else out += c;
  }
  return out;
}

/** The module specifiers a file imports (static, type-only, re-exports, dynamic, side-effect). */
export function importSpecifiers(text) {
  const src = stripComments(text);
  const specs = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g, // import x from '…', export { y } from '…'
    /\bimport\s*(['"])([^'"]+)\1/g, // import '…'
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g, // import('…')
  ];
  for (const re of patterns) for (const m of src.matchAll(re)) specs.push(m[2]);
  return specs;
}

function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(path.join(d, e.name));
      } else if (SOURCE.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

/** The file a relative specifier names ('./x.js' → x.ts, './dir' → dir/index.ts), or undefined. */
function resolveRelative(from, spec, known) {
  const base = path.resolve(path.dirname(from), spec);
  const stem = base.replace(/\.(?:js|mjs|cjs|jsx)$/, '');
  const candidates = [base, `${stem}.ts`, `${stem}.tsx`, `${stem}.mts`, `${stem}.mjs`, `${stem}.js`, path.join(base, 'index.ts'), path.join(base, 'index.js')];
  return candidates.find((c) => known.has(c));
}

/** Strongly connected components of size > 1 (or with a self edge): each holds at least one cycle. */
function cyclicComponents(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const comps = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? new Set()).has(v)) comps.push(comp);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return comps;
}

/** One shortest cycle through a component's first file, as files ending where they start. */
function cycleIn(comp, graph) {
  const inComp = new Set(comp);
  const start = [...comp].sort()[0];
  if (graph.get(start).has(start)) return [start, start];
  const prev = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of [...graph.get(v)].sort()) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const cycle = [start];
        for (let u = v; u !== start; u = prev.get(u)) cycle.splice(1, 0, u);
        return [...cycle, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...comp, comp[0]]; // unreachable for a strongly connected component
}

/** Projects (relative to the repository) whose src/ folders must not depend on each other in a cycle. */
export const FOLDER_CHECKED = ['apps/trainer'];

/** The import graph between the files under `dirs` (absolute paths): Map<file, Set<file>>. */
function importGraph(dirs) {
  const files = dirs.flatMap((d) => listFiles(d));
  const known = new Set(files);
  const graph = new Map(files.map((f) => [f, new Set()]));
  for (const f of files) {
    for (const spec of importSpecifiers(fs.readFileSync(f, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = resolveRelative(f, spec, known);
      if (target !== undefined) graph.get(f).add(target);
    }
  }
  return graph;
}

/** Every packages/* and apps/* directory under `root`. */
function projectDirs(root) {
  const projects = [];
  for (const group of ['packages', 'apps']) {
    let names = [];
    try {
      names = fs.readdirSync(path.join(root, group)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const dir = path.join(root, group, name);
      if (fs.statSync(dir).isDirectory()) projects.push(dir);
    }
  }
  return projects;
}

/** Every import cycle between the files of each package / app under `root`: [{ project, cycle: [rel files] }]. */
export function findCycles(root) {
  const found = [];
  for (const dir of projectDirs(root)) {
    const graph = importGraph(['src', 'test'].map((sub) => path.join(dir, sub)));
    for (const comp of cyclicComponents(graph)) {
      const cycle = cycleIn(comp, graph);
      found.push({ project: path.relative(root, dir), files: comp.map((f) => path.relative(dir, f)).sort(), cycle: cycle.map((f) => path.relative(dir, f)) });
    }
  }
  return found;
}

const isTest = (f) => /\.test\.[^.]+$/.test(f);

/**
 * Every cycle between the folders of src/ in each project of `projects` (relative to `root`; those that do
 * not exist are skipped): [{ project, cycle: ['src/queue/', 'src/stages/', …, 'src/queue/'], via: ['a.ts → b.ts', …] }],
 * `via` naming one file import behind each step of the cycle.
 */
export function findFolderCycles(root, projects = FOLDER_CHECKED) {
  const found = [];
  for (const project of projects) {
    const dir = path.join(root, project);
    const src = path.join(dir, 'src');
    if (!fs.existsSync(src)) continue;
    const files = importGraph([src]);
    const folderOf = (f) => `${path.relative(dir, path.dirname(f))}/`;
    const graph = new Map();
    const example = new Map(); // 'A\0B' → 'a.ts → b.ts' (the first import, in file order, from folder A into B)
    for (const f of [...files.keys()].sort()) {
      if (isTest(f)) continue;
      if (!graph.has(folderOf(f))) graph.set(folderOf(f), new Set());
      for (const t of [...files.get(f)].sort()) {
        const [a, b] = [folderOf(f), folderOf(t)];
        if (a === b) continue;
        graph.get(a).add(b);
        if (!graph.has(b)) graph.set(b, new Set());
        const key = `${a}\0${b}`;
        if (!example.has(key)) example.set(key, `${path.relative(dir, f)} → ${path.relative(dir, t)}`);
      }
    }
    for (const comp of cyclicComponents(graph)) {
      const cycle = cycleIn(comp, graph);
      const via = cycle.slice(1).map((b, i) => example.get(`${cycle[i]}\0${b}`));
      found.push({ project, folders: [...comp].sort(), cycle, via });
    }
  }
  return found;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
  const cycles = findCycles(root);
  for (const c of cycles)
    console.error(
      `import cycle in ${c.project}: ${c.cycle.join(' → ')}${c.files.length > c.cycle.length - 1 ? ` (files in the cycle group: ${c.files.join(', ')})` : ''}`,
    );
  const folderCycles = findFolderCycles(root);
  for (const c of folderCycles)
    console.error(
      `folder cycle in ${c.project}: ${c.cycle.join(' → ')} (through ${c.via.join('; ')})${c.folders.length > c.cycle.length - 1 ? ` (folders in the cycle group: ${c.folders.join(', ')})` : ''}`,
    );
  console.log(cycles.length === 0 ? 'no import cycles between files' : `${cycles.length} import cycle group(s)`);
  console.log(folderCycles.length === 0 ? `no import cycles between folders (${FOLDER_CHECKED.join(', ')})` : `${folderCycles.length} folder cycle group(s)`);
  process.exit(cycles.length === 0 && folderCycles.length === 0 ? 0 : 1);
}
