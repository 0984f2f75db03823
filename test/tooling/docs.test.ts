/**
 * docs/api.md documents the whole public API: every name src/index.ts exports
 * appears in it as code, so an export added without documentation fails here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../src/paths.js';
import * as api from '../../src/index.js';

test('docs/api.md mentions every export of src/index.ts', () => {
  const index = fs.readFileSync(path.join(packageRoot, 'src/index.ts'), 'utf8');
  const docs = fs.readFileSync(path.join(packageRoot, 'docs/api.md'), 'utf8');
  const names = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)].flatMap((match) =>
    match[1]!
      .split(',')
      .map((name) => name.trim().split(/\s+as\s+/).pop()!)
      .filter(Boolean),
  );
  assert.ok(names.length > 40, `found ${names.length} exports`);
  for (const value of Object.keys(api)) assert.ok(names.includes(value), `${value} is parsed from src/index.ts`);
  const missing = names.filter((name) => !new RegExp(`\`[^\`\\n]*\\b${name}\\b[^\`\\n]*\``).test(docs));
  assert.deepEqual(missing, [], 'exports not documented in docs/api.md');
});
