/**
 * Rows and row counts of the app schema, read as superuser (no row-level
 * security), to prove what a write changed and what it did not: a snapshot
 * of some users' rows, a snapshot of everybody else's, and one user's counts.
 */
import type pg from 'pg';

export const APP_TABLES = ['users', 'tasks', 'conversations', 'messages', 'tool_calls', 'tool_results', 'turn_usage'] as const;
export type AppTable = (typeof APP_TABLES)[number];

/** How each table is read: the column holding the owning user's id, the columns, and a stable order. */
const READ: Record<AppTable, { owner: string; columns: string; order: string }> = {
  users: { owner: 'id', columns: '*', order: 'id' },
  tasks: { owner: 'user_id', columns: '*', order: 'user_id, id' },
  conversations: { owner: 'user_id', columns: '*', order: 'user_id, id' },
  // Every column but the generated search vector; json as its exact text.
  messages: {
    owner: 'user_id',
    columns: 'user_id, conversation_id, id, position, role, format, content, tool_calls, tool_call_id, item::text as item, size_bytes, created_at',
    order: 'user_id, conversation_id, position',
  },
  tool_calls: {
    owner: 'user_id',
    columns: 'user_id, conversation_id, ordinal, message_id, message_position, call_index, call_id, name, arguments::text as arguments, format, created_at',
    order: 'user_id, conversation_id, ordinal',
  },
  tool_results: {
    owner: 'user_id',
    columns: 'user_id, conversation_id, ordinal, call_ordinal, call_id, message_id, output::text as output, status, created_at',
    order: 'user_id, conversation_id, ordinal',
  },
  turn_usage: { owner: 'user_id', columns: '*', order: 'user_id, id' },
};

async function snapshot(admin: pg.Pool, where: (owner: string) => string, value: unknown): Promise<Record<string, unknown[]>> {
  const rows: Record<string, unknown[]> = {};
  for (const table of APP_TABLES) {
    const { owner, columns, order } = READ[table];
    rows[table] = (await admin.query(`select ${columns} from todo_chat.${table} where ${where(owner)} order by ${order}`, [value])).rows;
  }
  return rows;
}

/**
 * Every row of the given users in every table, in a stable order. Scoped to
 * users because the suites of a file set up their data concurrently.
 */
export async function snapshotRows(admin: pg.Pool, userIds: string[]): Promise<Record<string, unknown[]>> {
  return snapshot(admin, (owner) => `${owner} = any($1::uuid[])`, userIds);
}

/**
 * Every row of every table that does not belong to `exceptUser` (all rows when
 * it is undefined), in a stable order. Equal snapshots before and after an
 * attack by `exceptUser` mean nobody else's data changed.
 */
export async function snapshotOthers(admin: pg.Pool, exceptUser?: string): Promise<Record<string, unknown[]>> {
  return snapshot(admin, (owner) => `${owner} is distinct from $1::uuid`, exceptUser ?? null);
}

/** Counts of one user's rows in every table. */
export async function countRows(admin: pg.Pool, userId: string): Promise<Record<AppTable, number>> {
  const { rows } = await admin.query<Record<AppTable, number>>(
    `select (select count(*)::int from todo_chat.users where id = $1) as users,
       (select count(*)::int from todo_chat.tasks where user_id = $1) as tasks,
       (select count(*)::int from todo_chat.conversations where user_id = $1) as conversations,
       (select count(*)::int from todo_chat.messages where user_id = $1) as messages,
       (select count(*)::int from todo_chat.tool_calls where user_id = $1) as tool_calls,
       (select count(*)::int from todo_chat.tool_results where user_id = $1) as tool_results,
       (select count(*)::int from todo_chat.turn_usage where user_id = $1) as turn_usage`,
    [userId],
  );
  return rows[0]!;
}
