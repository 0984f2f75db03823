/**
 * The package as a user's project installs it: `npm pack` of this checkout,
 * then `npm ci` of one of the projects of tools/consumer-projects.ts (its
 * committed package.json and package-lock.json, the tarball beside them),
 * so that a test installs exactly the versions locked in this repository.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';
import { stageProject, type ConsumerProject } from '../../tools/consumer-projects.js';

const exec = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a failure is a result with its exit code, not a throw. */
export async function runCommand(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      maxBuffer: 32 * 1024 * 1024,
      timeout: options.timeoutMs ?? 170_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
  }
}

/** `npm pack` of this checkout into `dir` (the prepack script builds first): the tarball and the files it holds. */
export async function packPackage(dir: string): Promise<{ tarball: string; files: string[] }> {
  const packed = await runCommand('npm', ['pack', '--json', '--pack-destination', dir], { cwd: packageRoot });
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: path.join(dir, info!.filename), files: info!.files.map((file) => file.path) };
}

/**
 * Makes `dir` (created if missing) the given project with the tarball, and
 * runs `npm ci` there (plus `extraArgs`, such as `--omit=dev`).
 */
export async function installProject(project: ConsumerProject, dir: string, tarball: string, extraArgs: string[] = []): Promise<CommandResult> {
  fs.mkdirSync(dir, { recursive: true });
  stageProject(project, dir, tarball);
  return runCommand('npm', ['ci', '--no-audit', '--no-fund', ...extraArgs], { cwd: dir, timeoutMs: 240_000 });
}
