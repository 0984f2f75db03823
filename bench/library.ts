/**
 * The library as its users run it: the compiled package (dist/, `npm run
 * build`), not the TypeScript sources through tsx, whose transpiler keeps
 * function names with a helper call per function created at run time (a
 * quarter of the library's own CPU per call in a profile). Builds dist/ first
 * when it is missing or older than any file of src/.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../src/paths.js';

export type Library = typeof import('../src/index.js');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
  }
  return latest;
}

export async function loadLibrary(log: (line: string) => void): Promise<Library> {
  const built = path.join(packageRoot, 'dist', 'index.js');
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < newest(path.join(packageRoot, 'src'))) {
    log('building the library (npm run build), which the benchmark runs as its users do...');
    execSync('npm run build', { cwd: packageRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return (await import(pathToFileURL(built).href)) as Library;
}
