/**
 * The workloads, each one transaction shape run by every contender:
 * - library: the public API, store.withUser(...) (named statements on, the
 *   default; and off, as behind PgBouncer 1.18);
 * - raw node-postgres: exactly the statements the library sent for the same
 *   call (recorded from it), after the same prologue and before COMMIT,
 *   unnamed and named;
 * - pgbench (-M prepared): the same statements and transaction shape, one
 *   script per target (pgbench cannot make a uuid from a number);
 * - Drizzle ORM: the same work written with its query builder inside its
 *   documented RLS transaction (bench/drizzle.ts).
 *
 * Every contender picks its target at random from the same TARGETS targets.
 */
import pg from 'pg';
import type { NewMessage, Store } from '../src/index.js';
import type { Library } from './library.js';
import * as dz from './drizzle.js';
import { ids, type FillParameters } from './fill.js';

/** How many (user, conversation) targets each workload spreads over: pgbench takes at most 128 scripts, and tasks have four operations. */
export const TARGETS = 32;

export interface Recorded {
  text: string;
  values: unknown[];
}

export interface Target {
  userId: string;
  /** The conversation, for the message workloads. */
  conversationId: string;
  /** A task of the fill, for complete and update. */
  taskId: string;
}

export interface Workload {
  name: string;
  title: string;
  kind: 'read' | 'write';
  /** Operations per workload: a transaction runs operation i % ops (the task workload's create, list, complete, update). */
  ops: number;
  targets: Target[];
  library(store: Store, target: Target, op: number): Promise<unknown>;
  drizzle(db: dz.Db, target: Target, op: number): Promise<unknown>;
}

const TURN_CALL_ID = 'call_bench';

function turn(k: number): NewMessage[] {
  return [
    { role: 'user', content: `Please add a task to renew the car insurance before the ${k % 28 + 1}th.` },
    { role: 'assistant', content: '', toolCalls: [{ id: TURN_CALL_ID, name: 'add_task', arguments: { title: 'Renew the car insurance', due: '2025-06-30' } }] },
    { role: 'tool', toolCallId: TURN_CALL_ID, content: '{"taskId": "5b0c9a51-2a6e-4c1f-9a57-2f1e6f0d7c11", "title": "Renew the car insurance"}' },
    { role: 'assistant', content: 'I added "Renew the car insurance" to your list and will remind you the day before it is due.' },
  ];
}

/** The same turn, as bench/drizzle.ts takes it. */
function drizzleTurn(): dz.TurnMessage[] {
  return turn(0).map((message) => {
    const m = message as { role: string; content?: string; toolCalls?: dz.TurnMessage['toolCalls']; toolCallId?: string };
    return { role: m.role, content: m.content ?? '', ...(m.toolCalls ? { toolCalls: m.toolCalls } : {}), ...(m.toolCallId ? { toolCallId: m.toolCallId } : {}) };
  });
}

function spread(fill: FillParameters, pick: (u: number, k: number) => Target): Target[] {
  return Array.from({ length: TARGETS }, (_, k) => pick(Math.floor((k * fill.users) / TARGETS), k));
}

export function workloads(fill: FillParameters): Workload[] {
  const conversationTargets = (c: number) =>
    spread(fill, (u, k) => ({ userId: ids.user(u), conversationId: ids.conversation(u, c), taskId: ids.task(u, k % fill.tasks) }));
  return [
    {
      name: 'history-user',
      title: 'newest 50 of a conversation, the page starting on a user message',
      kind: 'read',
      ops: 1,
      targets: conversationTargets(0),
      library: (store, t) => store.withUser(t.userId, (tx) => tx.messages.history(t.conversationId, { limit: 50 })),
      drizzle: (db, t) => dz.asUser(db, t.userId, (tx) => dz.history(tx, t.userId, t.conversationId, 50)),
    },
    {
      name: 'history-tool',
      title: 'newest 50 of a conversation, the page starting on a tool result (reaches back to the call)',
      kind: 'read',
      ops: 1,
      targets: conversationTargets(1),
      library: (store, t) => store.withUser(t.userId, (tx) => tx.messages.history(t.conversationId, { limit: 50 })),
      drizzle: (db, t) => dz.asUser(db, t.userId, (tx) => dz.history(tx, t.userId, t.conversationId, 50)),
    },
    {
      name: 'turn',
      title: 'append a 4-message chat turn (request, tool call, tool result, answer) with its audit',
      kind: 'write',
      ops: 1,
      targets: spread(fill, (u, k) => ({ userId: ids.user(u), conversationId: ids.scratch(u), taskId: ids.task(u, k % fill.tasks) })),
      library: (store, t) => store.withUser(t.userId, (tx) => tx.messages.appendTurn(t.conversationId, turn(0))),
      drizzle: (db, t) => dz.asUser(db, t.userId, (tx) => dz.appendTurn(tx, t.userId, t.conversationId, drizzleTurn())),
    },
    {
      name: 'tasks',
      title: 'task operations in turn: create, first page (50), complete, update the title',
      kind: 'write',
      ops: 4,
      targets: conversationTargets(0),
      library: (store, t, op) =>
        store.withUser<unknown>(t.userId, (tx) => {
          switch (op) {
            case 0:
              return tx.tasks.create({ title: 'bench: a new task' });
            case 1:
              return tx.tasks.list({ limit: 50 });
            case 2:
              return tx.tasks.complete(t.taskId);
            default:
              return tx.tasks.update(t.taskId, { title: 'bench: renamed' });
          }
        }),
      drizzle: (db, t, op) =>
        dz.asUser<unknown>(db, t.userId, (tx) => {
          switch (op) {
            case 0:
              return dz.createTask(tx, 'bench: a new task');
            case 1:
              return dz.listTasks(tx, t.userId);
            case 2:
              return dz.updateTask(tx, t.userId, t.taskId, { completed: true });
            default:
              return dz.updateTask(tx, t.userId, t.taskId, { title: 'bench: renamed' });
          }
        }),
    },
    {
      name: 'conversations',
      title: 'first page (50) of the conversations, most recently updated first',
      kind: 'read',
      ops: 1,
      targets: conversationTargets(0),
      library: (store, t) => store.withUser(t.userId, (tx) => tx.conversations.list({ limit: 50 })),
      drizzle: (db, t) => dz.asUser(db, t.userId, (tx) => dz.listConversations(tx, t.userId)),
    },
    {
      name: 'rebuild',
      title: `full reconstruction of the ${fill.bigMessages.toLocaleString('en')}-message conversation (messages.all)`,
      kind: 'read',
      ops: 1,
      targets: [{ userId: ids.user(0), conversationId: ids.big(), taskId: ids.task(0, 0) }],
      library: (store, t) => store.withUser(t.userId, (tx) => tx.messages.all(t.conversationId)),
      drizzle: (db, t) => dz.asUser(db, t.userId, (tx) => dz.rebuild(tx, t.userId, t.conversationId)),
    },
  ];
}

/**
 * The statements the library sends for each target and operation, recorded
 * by running it once through a pool whose clients write down every query
 * (the prologue and COMMIT, which the contenders send themselves, left out).
 */
export async function recordStatements(url: string, workload: Workload, createStore: Library['createStore']): Promise<Recorded[][][]> {
  let recording: Recorded[] | undefined;
  class RecordingClient extends pg.Client {}
  const original = pg.Client.prototype.query;
  // Override on the subclass only: with namedStatements off the library sends { text, values, types }; the prologue and COMMIT are plain strings.
  (RecordingClient.prototype as unknown as { query: unknown }).query = function (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) {
    const statement = config as { text?: unknown; values?: unknown };
    if (recording && typeof statement === 'object' && statement !== null && typeof statement.text === 'string' && Array.isArray(statement.values)) {
      recording.push({ text: statement.text, values: [...(statement.values as unknown[])] });
    }
    return (original as (...args: unknown[]) => unknown).call(this, config, values, callback);
  };
  const pool = new pg.Pool({ connectionString: url, max: 1, Client: RecordingClient });
  pool.on('error', () => undefined);
  const store = createStore({ pool, namedStatements: false });
  try {
    const byTarget: Recorded[][][] = [];
    for (const target of workload.targets) {
      const byOp: Recorded[][] = [];
      for (let op = 0; op < workload.ops; op++) {
        recording = [];
        await workload.library(store, target, op);
        byOp.push(recording);
        recording = undefined;
      }
      byTarget.push(byOp);
    }
    return byTarget;
  } finally {
    await store.close();
    await pool.end();
  }
}

/** Empties what the write workloads wrote in earlier runs, and makes each target user's scratch conversation. */
export async function resetScratch(url: string, fill: FillParameters): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const users = Array.from({ length: fill.users }, (_, u) => ids.user(u));
    const scratch = Array.from({ length: fill.users }, (_, u) => ids.scratch(u));
    await client.query("delete from todo_chat.tasks where title = 'bench: a new task'");
    await client.query('delete from todo_chat.conversations where id = any ($1::uuid[])', [scratch]);
    await client.query(
      `insert into todo_chat.conversations (user_id, id, title, created_at, updated_at)
       select u, s, 'scratch', timestamptz '2024-01-01 00:00:00+00', timestamptz '2024-01-01 00:00:00+00'
       from unnest($1::uuid[], $2::uuid[]) as x(u, s)`,
      [users, scratch],
    );
    await client.query('vacuum analyze todo_chat.tasks, todo_chat.conversations, todo_chat.messages, todo_chat.tool_calls, todo_chat.tool_results');
  } finally {
    await client.end();
  }
}
