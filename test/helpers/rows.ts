/**
 * Test-only helpers for the domain tests: a snapshot of every row of the app
 * schema (to prove that a refused write changed nothing), and EXPLAIN of a
 * generated pgtyped query with its real parameters.
 */
import assert from 'node:assert/strict';
import type pg from 'pg';
import type { PreparedQuery } from '@pgtyped/runtime';

/**
 * Every row of the given users in every table, as superuser (no row-level
 * security), in a stable order. Scoped to users because the suites of a file
 * set up their data concurrently.
 */
export async function snapshotRows(admin: pg.Pool, userIds: string[]): Promise<Record<string, unknown[]>> {
  const tables: Record<string, string> = {
    users: 'select * from app.users where id = any($1::uuid[]) order by id',
    tasks: 'select * from app.tasks where user_id = any($1::uuid[]) order by user_id, id',
    conversations: 'select * from app.conversations where user_id = any($1::uuid[]) order by user_id, id',
    messages:
      'select user_id, conversation_id, id, seq, role, content, tool_calls, tool_call_id, created_at from app.messages where user_id = any($1::uuid[]) order by seq',
  };
  const snapshot: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(tables)) snapshot[name] = (await admin.query(sql, [userIds])).rows;
  return snapshot;
}

/** Counts of a user's rows in every table, as superuser. */
export async function countRows(admin: pg.Pool, userId: string): Promise<{ users: number; tasks: number; conversations: number; messages: number }> {
  const { rows } = await admin.query<{ users: number; tasks: number; conversations: number; messages: number }>(
    `select (select count(*)::int from app.users where id = $1) as users,
       (select count(*)::int from app.tasks where user_id = $1) as tasks,
       (select count(*)::int from app.conversations where user_id = $1) as conversations,
       (select count(*)::int from app.messages where user_id = $1) as messages`,
    [userId],
  );
  return rows[0]!;
}

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
