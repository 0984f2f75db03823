/**
 * A query carries its own name: the names the repositories report (onQuery,
 * error messages) are derived from pgtyped's exports, and must be exactly the
 * @name of each statement in sql/, all of them and nothing else.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processSQLQueryIR } from '@pgtyped/runtime';
import { listNamedQueries } from '../helpers/security.js';
// Every set the module exports: a new sql/ file's set is checked without being named here.
import * as querySets from '../../src/repositories/queries.js';

test('every @name of sql/ is a named query of the repositories under that name, and there are no others', () => {
  const derived = Object.values(querySets)
    .flatMap((set) => Object.entries(set).map(([exportName, named]) => ({ exportName, name: named.name })))
    .sort((a, b) => a.name.localeCompare(b.name));
  const inSql = listNamedQueries()
    .map(({ exportName, name }) => ({ exportName, name }))
    .sort((a, b) => a.name.localeCompare(b.name));
  assert.ok(inSql.length >= 20, `found ${inSql.length} named queries in sql/`);
  assert.deepEqual(derived, inSql);
});

test('every named query is compiled once, to exactly the text and parameter order pgtyped builds per call', () => {
  const all = Object.values(querySets).flatMap((set) => Object.values(set));
  assert.ok(all.length >= 20);
  for (const named of all) {
    assert.ok(named.compiled, `${named.name} is compiled (every parameter of sql/ is a scalar)`);
    const ir = (named.query as unknown as { queryIR: Parameters<typeof processSQLQueryIR>[0] }).queryIR;
    const params = Object.fromEntries(ir.params.map((p) => [p.name, `value of ${p.name}`]));
    const perCall = processSQLQueryIR(ir, params);
    assert.equal(named.compiled.text, perCall.query, named.name);
    assert.deepEqual(
      named.compiled.parameters.map((name: string) => params[name]),
      perCall.bindings,
      named.name,
    );
  }
});
