/**
 * Query plans: EXPLAIN of a generated pgtyped query with its real parameters,
 * and assertions on the plan.
 */
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { PreparedQuery } from '@pgtyped/runtime';

export interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Scan Direction'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

/**
 * EXPLAIN (format json) of a generated query with the given parameters, on a
 * client that is already inside a user context (test/helpers/transaction.ts): the
 * exact statement and bindings the repository sends, under row-level security.
 */
export async function explainQuery<P>(client: pg.ClientBase, query: PreparedQuery<P, unknown>, params: P): Promise<PlanNode> {
  const captured = await statementOf(query, params);
  const result = await client.query(`explain (format json) ${captured.text}`, captured.values);
  const plan = (result.rows[0] as { 'QUERY PLAN': { Plan: PlanNode }[] })['QUERY PLAN'][0]!.Plan;
  return plan;
}

/** The statement text and bindings pgtyped sends for a query and its parameters (nothing is run). */
export async function statementOf<P>(query: PreparedQuery<P, unknown>, params: P): Promise<{ text: string; values: unknown[] }> {
  let captured: { text: string; values: unknown[] } | undefined;
  await query.run(params, {
    query: async (text, values) => {
      captured = { text, values };
      return { rows: [], rowCount: 0 };
    },
  });
  return captured!;
}

/** Every node of a plan tree, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** The plan as indented text, for assertion messages. */
export function describePlan(plan: PlanNode, depth = 0): string {
  const what = [plan['Node Type'], plan['Scan Direction'], plan['Index Name'] && `using ${plan['Index Name']}`, plan['Relation Name'] && `on ${plan['Relation Name']}`]
    .filter(Boolean)
    .join(' ') + (plan['Plan Rows'] === undefined ? '' : ` (rows=${String(plan['Plan Rows'])} cost=${String(plan['Total Cost'])})`);
  return [`${'  '.repeat(depth)}${what}`, ...(plan.Plans ?? []).map((child) => describePlan(child, depth + 1))].join('\n');
}

/**
 * Asserts that a plan sorts nothing and reads `relation` with an (index-only)
 * index scan on one of `indexes`, in `direction` when one is given: a page
 * that stops after `limit` rows, however many rows the user has.
 */
export function assertOrderedIndexScan(
  plan: PlanNode,
  expected: { name: string; relation: string; indexes: string[]; direction?: 'Forward' | 'Backward' },
): void {
  const nodes = planNodes(plan);
  const text = `${expected.name}:\n${describePlan(plan)}`;
  assert.ok(!nodes.some((node) => /Sort/.test(node['Node Type'])), `sorts: ${text}`);
  const scan = nodes.find((node) => node['Relation Name'] === expected.relation);
  assert.ok(scan, `reads ${expected.relation}: ${text}`);
  assert.match(scan['Node Type'], /^Index (Only )?Scan$/, text);
  assert.ok(expected.indexes.includes(String(scan['Index Name'])), text);
  if (expected.direction) assert.equal(scan['Scan Direction'], expected.direction, text);
}

/**
 * Asserts that every read of `relation` in a plan goes through one of
 * `indexes` (an index scan, or a bitmap scan of that index), never a
 * sequential scan, and that anything sorted lies under a Limit: the statement
 * reads and orders a bounded range of the index, never a whole conversation.
 */
export function assertBoundedIndexReads(plan: PlanNode, expected: { name: string; relation: string; indexes: string[] }): void {
  const text = `${expected.name}:\n${describePlan(plan)}`;
  const visit = (node: PlanNode, underLimit: boolean): void => {
    const type = node['Node Type'];
    if (/Sort/.test(type)) assert.ok(underLimit, `sorts without a limit: ${text}`);
    if (node['Relation Name'] === expected.relation) {
      assert.match(type, /^(Index (Only )?Scan|Bitmap Heap Scan)$/, text);
      const index = type === 'Bitmap Heap Scan' ? planNodes(node).find((child) => child['Node Type'] === 'Bitmap Index Scan')?.['Index Name'] : node['Index Name'];
      assert.ok(expected.indexes.includes(String(index)), text);
    }
    for (const child of node.Plans ?? []) visit(child, underLimit || type === 'Limit');
  };
  visit(plan, false);
  assert.ok(planNodes(plan).some((node) => node['Relation Name'] === expected.relation), `reads ${expected.relation}: ${text}`);
}
