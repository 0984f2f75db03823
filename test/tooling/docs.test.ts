/**
 * docs/api.md documents the whole public API: every name that src/index.ts
 * and the SDK entry points (src/agents/index.ts, src/ai-sdk/index.ts) export
 * appears in it as code, so an export added without documentation fails here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/paths.js';
import * as api from '../../src/index.js';
import * as agents from '../../src/agents/index.js';
import * as aiSdk from '../../src/ai-sdk/index.js';

const ENTRY_POINTS: [string, Record<string, unknown>, number][] = [
  ['src/index.ts', api, 40],
  ['src/agents/index.ts', agents, 10],
  ['src/ai-sdk/index.ts', aiSdk, 10],
];

for (const [file, module, atLeast] of ENTRY_POINTS) {
  test(`docs/api.md mentions every export of ${file}`, () => {
    const index = fs.readFileSync(path.join(packageRoot, file), 'utf8');
    const docs = fs.readFileSync(path.join(packageRoot, 'docs/api.md'), 'utf8');
    const names = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((match) =>
      match[1]!
        .split(',')
        .map((name) => name.trim().split(/\s+as\s+/).pop()!)
        .filter(Boolean),
    );
    assert.ok(names.length > atLeast, `found ${names.length} exports`);
    for (const value of Object.keys(module)) assert.ok(names.includes(value), `${value} is parsed from ${file}`);
    const missing = names.filter((name) => !new RegExp(`\`[^\`\\n]*\\b${name}\\b[^\`\\n]*\``).test(docs));
    assert.deepEqual(missing, [], `exports of ${file} not documented in docs/api.md`);
  });
}
