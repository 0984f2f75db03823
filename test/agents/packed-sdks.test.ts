/**
 * The SDK integrations from the packed package, with the SDK lines the peer
 * ranges of package.json name for the Node that runs this file: on Node 20
 * the first line of each range (the majors that support Node 20: the Agents
 * SDK on openai 6, `ai` 6), on Node 22 and later the last (the newest
 * majors, whose `openai` and `ai` need Node 22). `npm pack`, then a fresh
 * project installs the tarball, `@openai/agents`, `ai` and TypeScript 5 from
 * the registry; consumer/scenario.ts is type-checked there with tsc --strict
 * (against todo-chat-db's declarations and the SDKs' own), compiled, and run
 * with plain node against a database it migrates itself. `.ci/run` runs this
 * file on Node 22 as well as in the whole suite on Node 20.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { createEmptyDatabase, onCleanup, type TestDatabase } from '../helpers/db.js';
import { packageRoot } from '../../src/paths.js';

const exec = promisify(execFile);
const manifest = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
const nodeMajor = Number(process.versions.node.split('.')[0]);

/** The line of a peer range for this Node: its first alternative below Node 22, its last from Node 22 on. */
function lineFor(peer: string): string {
  const alternatives = manifest.peerDependencies[peer]!.split('||').map((range) => range.trim());
  return nodeMajor >= 22 ? alternatives.at(-1)! : alternatives[0]!;
}

async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 32 * 1024 * 1024, timeout: 170_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
  }
}

let work: string;
let consumer: string;
let tarball: string;
let db: TestDatabase;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-packed-sdks-'));
  onCleanup(() => fs.rmSync(work, { recursive: true, force: true }));
  // npm pack runs the prepack script (npm run build) first.
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], packageRoot);
  assert.equal(packed.code, 0, packed.stderr);
  tarball = path.join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
  consumer = path.join(work, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'sdk-consumer', version: '1.0.0', private: true, type: 'module' }));
  db = await createEmptyDatabase();
});

describe(`the packed package with the SDK lines for Node ${nodeMajor}`, () => {
  const agentsLine = lineFor('@openai/agents-core');
  const aiLine = lineFor('ai');

  test(`installs beside @openai/agents@${agentsLine} and ai@${aiLine} (its optional peers), without a peer conflict`, async () => {
    const installed = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', tarball, `@openai/agents@${agentsLine}`, `ai@${aiLine}`, 'typescript@5', `@types/node@${nodeMajor}`],
      consumer,
    );
    assert.equal(installed.code, 0, installed.stderr);
    const listed = await run('npm', ['ls', '--json', '@openai/agents', '@openai/agents-core', 'ai', 'openai', 'zod'], consumer);
    const tree = JSON.parse(listed.stdout) as { dependencies: Record<string, { version: string; dependencies?: Record<string, { version: string }> }> };
    const versions = {
      '@openai/agents': tree.dependencies['@openai/agents']!.version,
      ai: tree.dependencies.ai!.version,
      openai: tree.dependencies['@openai/agents']!.dependencies?.openai?.version ?? 'hoisted',
    };
    console.log(`Node ${process.version}: @openai/agents ${versions['@openai/agents']}, ai ${versions.ai}, openai ${versions.openai}`);
    assert.equal(listed.code, 0, `npm ls reports no invalid or missing package: ${listed.stderr}`);
  });

  test('tsc --strict type-checks the scenario against the shipped declarations and the SDKs\' own', async () => {
    fs.copyFileSync(path.join(packageRoot, 'test/agents/consumer/scenario.ts'), path.join(consumer, 'scenario.ts'));
    const compilerOptions = {
      target: 'ES2022',
      lib: ['ES2023', 'DOM'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noUncheckedIndexedAccess: true,
      noImplicitOverride: true,
      outDir: 'out',
      types: ['node'],
    };
    const tsc = path.join(consumer, 'node_modules', 'typescript', 'bin', 'tsc');
    const compile = async (skipLibCheck: boolean, noEmit: boolean) => {
      fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...compilerOptions, skipLibCheck, noEmit }, files: ['scenario.ts'] }));
      return run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer);
    };
    // Every declaration file checked too: none of todo-chat-db's has an error with these SDK versions.
    const thorough = await compile(false, true);
    const ours = thorough.stdout.split('\n').filter((line) => /error TS\d+/.test(line) && (line.startsWith('scenario.ts') || line.includes('node_modules/todo-chat-db/')));
    assert.deepEqual(ours, [], 'errors in the scenario or in the declarations of todo-chat-db');
    // As most projects compile (skipLibCheck): no error at all, and the JavaScript to run.
    const usual = await compile(true, false);
    assert.equal(usual.code, 0, usual.stdout + usual.stderr);
    assert.ok(fs.existsSync(path.join(consumer, 'out', 'scenario.js')));
  });

  test('plain node runs it: an Agents SDK chat over two stores, the tools under attack, an AI SDK request saved and reloaded', async () => {
    const result = await run(process.execPath, [path.join('out', 'scenario.js')], consumer, { DATABASE_URL: db.url });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const checks = result.stdout.split('\n').filter((line) => line.startsWith('ok '));
    for (const line of checks) console.log(line);
    assert.equal(checks.length, 6, result.stdout);
    assert.match(result.stdout, /all checks passed/);
  });
});
