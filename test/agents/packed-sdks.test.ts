/**
 * The SDK integrations from the packed package, with the SDK lines the peer
 * ranges of package.json name for the Node that runs this file, installed
 * from a project of this repository with its lockfile
 * (tools/consumer-projects.ts): on Node 20 and 21 test/agents/consumer/node20
 * (the first alternative of each range: the majors that support Node 20, the
 * Agents SDK on openai 6 and `ai` 6), on Node 22 and later
 * test/agents/consumer/node22 (the last alternative: the newest majors, whose
 * `openai` and `ai` need Node 22). `npm pack`, then `npm ci` of that project
 * with the tarball beside it: todo-chat-db, `@openai/agents`, `ai`,
 * TypeScript 5. consumer/scenario.ts is type-checked there with tsc --strict
 * (against todo-chat-db's declarations and the SDKs' own), compiled, and run
 * with plain node against a database it migrates itself. `.ci/run` runs this
 * file on Node 22 as well as in the whole suite on Node 20.
 * test/tooling/consumer-lockfiles.test.ts checks that the locked versions are
 * the ones the peer ranges name.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import semver from 'semver';
import { createEmptyDatabase, onCleanup, type TestDatabase } from '../helpers/db.js';
import { installProject, packPackage, runCommand } from '../helpers/consumer.js';
import { packageRoot } from '../../src/paths.js';
import { CONSUMER_PROJECTS, readJson, type PackageManifest } from '../../tools/consumer-projects.js';

const nodeMajor = Number(process.versions.node.split('.')[0]);
const project = nodeMajor >= 22 ? CONSUMER_PROJECTS.sdksNode22 : CONSUMER_PROJECTS.sdksNode20;
const peerRanges = readJson<PackageManifest>(path.join(packageRoot, 'package.json')).peerDependencies!;

/** The alternative of a peer range this Node tests: the first below Node 22, the last from Node 22 on. */
function lineFor(peer: string): string {
  const alternatives = peerRanges[peer]!.split('||').map((range) => range.trim());
  return nodeMajor >= 22 ? alternatives.at(-1)! : alternatives[0]!;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  return runCommand(command, args, { cwd, env });
}

let consumer: string;
let db: TestDatabase;

before(async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tcdb-packed-sdks-'));
  onCleanup(() => fs.rmSync(work, { recursive: true, force: true }));
  const { tarball } = await packPackage(work);
  consumer = path.join(work, 'consumer');
  const installed = await installProject(project, consumer, tarball);
  assert.equal(installed.code, 0, installed.stderr);
  db = await createEmptyDatabase();
});

describe(`the packed package with the SDK lines for Node ${nodeMajor}`, () => {
  const agentsLine = lineFor('@openai/agents-core');
  const aiLine = lineFor('ai');

  test(`${project.folder} installed @openai/agents-core in ${agentsLine} and ai in ${aiLine} (its optional peers), without a peer conflict`, async () => {
    const installed = (name: string) => JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', name, 'package.json'), 'utf8')) as PackageManifest;
    const versions = Object.fromEntries(['@openai/agents', '@openai/agents-core', 'ai', 'openai', 'zod'].map((name) => [name, installed(name).version]));
    console.log(`Node ${process.version}, ${project.folder}: ${Object.entries(versions).map(([name, version]) => `${name} ${version}`).join(', ')}`);
    assert.ok(semver.satisfies(versions['@openai/agents-core']!, agentsLine), `@openai/agents-core ${versions['@openai/agents-core']} is in ${agentsLine}`);
    assert.ok(semver.satisfies(versions.ai!, aiLine), `ai ${versions.ai} is in ${aiLine}`);
    // The SDKs' own engines allow this Node (npm only warns when they do not).
    for (const name of ['@openai/agents-core', 'ai', 'openai']) {
      const engine = installed(name).engines?.node;
      assert.ok(engine === undefined || semver.satisfies(process.versions.node, engine), `${name} needs Node ${engine}`);
    }
    const listed = await run('npm', ['ls', '--all', '--json'], consumer);
    assert.equal(listed.code, 0, `npm ls reports no invalid, missing or conflicting package: ${listed.stdout.slice(0, 4000)} ${listed.stderr}`);
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

  test('plain node runs it: an Agents SDK chat in two processes, the tools of both SDKs under attack, an AI SDK request saved and reloaded', async () => {
    const result = await run(process.execPath, [path.join('out', 'scenario.js')], consumer, { DATABASE_URL: db.url });
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const checks = result.stdout.split('\n').filter((line) => line.startsWith('ok '));
    for (const line of checks) console.log(line);
    assert.equal(checks.length, 7, result.stdout);
    assert.match(result.stdout, /all checks passed/);
  });
});
