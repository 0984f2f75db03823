/**
 * npm run lock:consumers [-- --fresh] [folders]: writes the package-lock.json
 * of every project of tools/consumer-projects.ts (or of the folders given),
 * from its package.json, with npm itself (`npm install --package-lock-only`,
 * nothing installed). Run it after changing one of those package.json files,
 * or this package's dependencies or peer ranges (the projects that install
 * the packed todo-chat-db lock its dependencies too; the tooling test
 * test/tooling/consumer-lockfiles.test.ts says when one is stale).
 *
 * Versions already locked are kept when they still satisfy the package.json;
 * --fresh drops the old lockfile first, to take the newest versions the
 * ranges allow (then run the package tests on Node 20 and on Node 22).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../src/paths.js';
import { CONSUMER_PROJECTS, TARBALL_ENTRY, dependsOnTarball, readJson, stageProject, type ConsumerProject, type Lockfile } from './consumer-projects.js';
import { runMain } from './run-main.js';

const exec = promisify(execFile);

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec('npm', args, { cwd, maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

async function lock(project: ConsumerProject, work: string, tarball: string | undefined, fresh: boolean): Promise<void> {
  const dir = fs.mkdtempSync(path.join(work, 'project-'));
  stageProject(project, dir, tarball);
  if (fresh) fs.rmSync(path.join(dir, 'package-lock.json'), { force: true });
  // No scripts run when only the lockfile is written; engine warnings (Node 22 projects locked on Node 20) are only warnings.
  await npm(['install', '--package-lock-only', '--no-audit', '--no-fund', '--ignore-scripts'], dir);
  const lockfile = readJson<Lockfile>(path.join(dir, 'package-lock.json'));
  const entry = lockfile.packages[TARBALL_ENTRY];
  // The tarball is rebuilt for every test run: an integrity would make npm install a cached older build.
  if (entry) delete entry.integrity;
  fs.writeFileSync(path.join(packageRoot, project.folder, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);
  const locked = Object.keys(readJson<{ dependencies?: Record<string, string> }>(path.join(dir, 'package.json')).dependencies ?? {})
    .map((name) => `${name}@${lockfile.packages[`node_modules/${name}`]?.version ?? '?'}`)
    .join(', ');
  console.log(`${project.folder}/package-lock.json: ${locked}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const fresh = args.includes('--fresh');
  const folders = args.filter((arg) => arg !== '--fresh').map((folder) => path.relative(packageRoot, path.resolve(folder)));
  const all: ConsumerProject[] = Object.values(CONSUMER_PROJECTS);
  const unknown = folders.filter((folder) => !all.some((project) => project.folder === folder));
  if (unknown.length > 0) throw new Error(`not a consumer project: ${unknown.join(', ')} (they are: ${all.map((p) => p.folder).join(', ')})`);
  const projects = folders.length > 0 ? all.filter((project) => folders.includes(project.folder)) : all;

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-lock-consumers-'));
  try {
    let tarball: string | undefined;
    if (projects.some(dependsOnTarball)) {
      // npm pack runs the prepack script (npm run build) first.
      const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], packageRoot)) as { filename: string }[];
      tarball = path.join(work, packed[0]!.filename);
    }
    for (const project of projects) await lock(project, work, tarball, fresh);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

runMain('lock:consumers', main);
