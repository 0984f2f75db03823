/**
 * The projects that the package tests and .ci/run install from the npm
 * registry. Each is a package.json and its package-lock.json in this
 * repository, so that every such install is an `npm ci` of versions
 * committed here, never a version picked by hand or the registry's newest of
 * the day (`npm run lock:consumers` regenerates the lockfiles).
 *
 * Those that depend on todo-chat-db name it `file:todo-chat-db.tgz`: the
 * tarball `npm pack` makes of this checkout, copied beside their
 * package.json. Its lockfile entry has no integrity, on purpose: the tarball
 * changes with every build, and npm, given an integrity, installs the
 * tarball of that hash from its cache, an older build, without a word.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/paths.js';

export interface ConsumerProject {
  /** The folder of its package.json and package-lock.json, relative to the repository. */
  folder: string;
  /** What installs it. */
  usedBy: string;
}

export const CONSUMER_PROJECTS = {
  package: { folder: 'test/package/consumer', usedBy: 'test/package/consumer.test.ts (npm ci --omit=dev)' },
  sdksNode20: { folder: 'test/agents/consumer/node20', usedBy: 'test/agents/packed-sdks.test.ts on Node 20 and 21' },
  sdksNode22: { folder: 'test/agents/consumer/node22', usedBy: 'test/agents/packed-sdks.test.ts on Node 22 and later (.ci/run)' },
  ciNode22: { folder: '.ci/node22', usedBy: '.ci/run (the Node 22 it runs the package tests on)' },
} as const satisfies Record<string, ConsumerProject>;

/** The file name the projects give the packed todo-chat-db (`file:todo-chat-db.tgz`). */
export const TARBALL_NAME = 'todo-chat-db.tgz';

/** The lockfile key of the packed todo-chat-db. */
export const TARBALL_ENTRY = 'node_modules/todo-chat-db';

export interface PackageManifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  engines?: Record<string, string>;
}

export interface LockfileEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  engines?: Record<string, string>;
  dev?: boolean;
}

export interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockfileEntry>;
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function manifestOf(project: ConsumerProject): PackageManifest {
  return readJson(path.join(packageRoot, project.folder, 'package.json'));
}

export function lockfileOf(project: ConsumerProject): Lockfile {
  return readJson(path.join(packageRoot, project.folder, 'package-lock.json'));
}

/** True when the project installs the packed todo-chat-db. */
export function dependsOnTarball(project: ConsumerProject): boolean {
  return manifestOf(project).dependencies?.['todo-chat-db'] === `file:${TARBALL_NAME}`;
}

/**
 * Copies the project's package.json and package-lock.json into `dir` (which
 * must exist), and the tarball beside them when the project installs it;
 * `npm ci` in `dir` then installs exactly what the lockfile holds.
 */
export function stageProject(project: ConsumerProject, dir: string, tarball?: string): void {
  const source = path.join(packageRoot, project.folder);
  for (const file of ['package.json', 'package-lock.json']) {
    const from = path.join(source, file);
    if (fs.existsSync(from)) fs.copyFileSync(from, path.join(dir, file));
  }
  if (dependsOnTarball(project)) {
    if (!tarball) throw new Error(`${project.folder} installs the packed todo-chat-db: pass the tarball npm pack made`);
    fs.copyFileSync(tarball, path.join(dir, TARBALL_NAME));
  }
}
