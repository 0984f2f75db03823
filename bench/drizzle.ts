/**
 * The workloads written as a Drizzle ORM user would write them: the schema
 * declared in Drizzle, its query builder, and its documented row-level
 * security pattern (a transaction that sets the request's claims and role
 * with set_config / `set local role`, runs the callback, and resets both in
 * a finally block before COMMIT: orm.drizzle.team, "Row-Level Security",
 * the createDrizzle wrapper of its Supabase/Neon examples).
 *
 * The columns that the app role may not write (user_id, from its default;
 * timestamps and version, from triggers; size_bytes and search_vector,
 * generated) are declared generated, or Drizzle would send `default` for
 * them and the column-level grants would refuse the insert.
 */
import { and, asc, desc, eq, gte, lt, ne, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { bigint, boolean, integer, json, jsonb, pgSchema, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type pg from 'pg';

const todoChat = pgSchema('todo_chat');
const fromDefault = sql`todo_chat.current_user_id()`;
const fromTrigger = sql`now()`;

export const tasks = todoChat.table('tasks', {
  userId: uuid('user_id').notNull().generatedAlwaysAs(fromDefault),
  id: uuid('id').notNull().defaultRandom(),
  title: text('title').notNull(),
  description: text('description').notNull().default(''),
  completed: boolean('completed').notNull().default(false),
  completedAt: timestamp('completed_at', { withTimezone: true, precision: 3 }).generatedAlwaysAs(fromTrigger),
  version: integer('version').notNull().generatedAlwaysAs(sql`1`),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().generatedAlwaysAs(fromTrigger),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().generatedAlwaysAs(fromTrigger),
});

export const conversations = todoChat.table('conversations', {
  userId: uuid('user_id').notNull().generatedAlwaysAs(fromDefault),
  id: uuid('id').notNull().defaultRandom(),
  title: text('title'),
  status: text('status').notNull().default('active'),
  version: integer('version').notNull().generatedAlwaysAs(sql`1`),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().generatedAlwaysAs(fromTrigger),
  updatedAt: timestamp('updated_at', { withTimezone: true, precision: 3 }).notNull().generatedAlwaysAs(fromTrigger),
  lastPosition: integer('last_position').notNull(),
  historyBytes: bigint('history_bytes', { mode: 'number' }).notNull(),
  lastAuditOrdinal: integer('last_audit_ordinal').notNull(),
});

export const messages = todoChat.table('messages', {
  userId: uuid('user_id').notNull().generatedAlwaysAs(fromDefault),
  conversationId: uuid('conversation_id').notNull(),
  id: text('id').notNull(),
  position: integer('position').notNull(),
  role: text('role').notNull(),
  format: text('format').notNull(),
  content: text('content').notNull(),
  toolCalls: jsonb('tool_calls'),
  toolCallId: text('tool_call_id'),
  item: json('item'),
  callIds: text('call_ids').array(),
  sizeBytes: integer('size_bytes').generatedAlwaysAs(sql`0`),
  createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().generatedAlwaysAs(fromTrigger),
});

export const toolCalls = todoChat.table('tool_calls', {
  userId: uuid('user_id').notNull().generatedAlwaysAs(fromDefault),
  conversationId: uuid('conversation_id').notNull(),
  ordinal: integer('ordinal').notNull(),
  messageId: text('message_id').notNull(),
  messagePosition: integer('message_position').notNull(),
  callIndex: integer('call_index').notNull(),
  callId: text('call_id').notNull(),
  name: text('name').notNull(),
  arguments: json('arguments'),
  format: text('format').notNull(),
});

export const toolResults = todoChat.table('tool_results', {
  userId: uuid('user_id').notNull().generatedAlwaysAs(fromDefault),
  conversationId: uuid('conversation_id').notNull(),
  ordinal: integer('ordinal').notNull(),
  callOrdinal: integer('call_ordinal'),
  callId: text('call_id').notNull(),
  messageId: text('message_id').notNull(),
  output: json('output'),
  status: text('status'),
});

export type Db = NodePgDatabase<Record<string, never>>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export function drizzleOn(pool: pg.Pool): Db {
  return drizzle({ client: pool });
}

/** Drizzle's documented RLS transaction: claims and role set first, reset in finally, then COMMIT. */
export async function asUser<T>(db: Db, userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    try {
      await tx.execute(sql`
        select set_config('todo_chat.user_id', '${sql.raw(userId)}', TRUE);
        set local role todo_chat_app;
      `);
      return await fn(tx);
    } finally {
      await tx.execute(sql`
        select set_config('todo_chat.user_id', NULL, TRUE);
        reset role;
      `);
    }
  });
}

const messageColumns = {
  id: messages.id,
  position: messages.position,
  role: messages.role,
  format: messages.format,
  content: messages.content,
  toolCalls: messages.toolCalls,
  toolCallId: messages.toolCallId,
  item: messages.item,
  createdAt: messages.createdAt,
};

/** The newest `limit` messages, oldest first, reaching back to the start of a turn when the page starts on a tool result. */
export async function history(tx: Tx, userId: string, conversationId: string, limit: number) {
  const mine = and(eq(messages.userId, userId), eq(messages.conversationId, conversationId));
  const page = await tx.select(messageColumns).from(messages).where(mine).orderBy(desc(messages.position)).limit(limit);
  page.reverse();
  const first = page[0];
  if (first?.role !== 'tool') return page;
  const [start] = await tx
    .select({ position: messages.position })
    .from(messages)
    .where(and(mine, lt(messages.position, first.position), ne(messages.role, 'tool')))
    .orderBy(desc(messages.position))
    .limit(1);
  if (!start) return page;
  const earlier = await tx
    .select(messageColumns)
    .from(messages)
    .where(and(mine, gte(messages.position, start.position), lt(messages.position, first.position)))
    .orderBy(asc(messages.position));
  return [...earlier, ...page];
}

/** Every message of a conversation, after checking its size as the library does. */
export async function rebuild(tx: Tx, userId: string, conversationId: string) {
  const [conversation] = await tx
    .select({ lastPosition: conversations.lastPosition, historyBytes: conversations.historyBytes })
    .from(conversations)
    .where(and(eq(conversations.userId, userId), eq(conversations.id, conversationId)));
  if (!conversation || conversation.lastPosition > 20_000) throw new Error('not found or too large');
  return tx
    .select(messageColumns)
    .from(messages)
    .where(and(eq(messages.userId, userId), eq(messages.conversationId, conversationId)))
    .orderBy(asc(messages.position));
}

export interface TurnMessage {
  role: string;
  content: string;
  toolCalls?: { id: string; name: string; arguments: unknown }[];
  toolCallId?: string;
}

/** Appends a turn: counters first (the row lock), the messages, then the call and result of the audit. */
export async function appendTurn(tx: Tx, userId: string, conversationId: string, turn: TurnMessage[]) {
  const size = turn.reduce((sum, m) => sum + Buffer.byteLength(m.content) + (m.toolCalls ? Buffer.byteLength(JSON.stringify(m.toolCalls)) : 0), 0);
  const audits = turn.filter((m) => m.toolCalls || m.toolCallId).length;
  const [counters] = await tx
    .update(conversations)
    .set({
      lastPosition: sql`${conversations.lastPosition} + ${turn.length}`,
      historyBytes: sql`${conversations.historyBytes} + ${size}`,
      lastAuditOrdinal: sql`${conversations.lastAuditOrdinal} + ${audits}`,
    })
    .where(and(eq(conversations.userId, userId), eq(conversations.id, conversationId)))
    .returning({ lastPosition: conversations.lastPosition, lastAuditOrdinal: conversations.lastAuditOrdinal });
  if (!counters) throw new Error('conversation not found');
  const base = counters.lastPosition - turn.length;
  const inserted = await tx
    .insert(messages)
    .values(
      turn.map((m, i) => ({
        conversationId,
        id: crypto.randomUUID(),
        position: base + i + 1,
        role: m.role,
        format: 'chat',
        content: m.content,
        toolCalls: m.toolCalls ?? null,
        toolCallId: m.toolCallId ?? null,
        callIds: m.toolCalls ? m.toolCalls.map((c) => c.id) : null,
      })),
    )
    .returning(messageColumns);
  let ordinal = counters.lastAuditOrdinal - audits;
  const callOrdinals = new Map<string, number>();
  for (const [i, m] of turn.entries()) {
    const row = inserted[i]!;
    for (const [index, call] of (m.toolCalls ?? []).entries()) {
      ordinal += 1;
      callOrdinals.set(call.id, ordinal);
      await tx.insert(toolCalls).values({
        conversationId,
        ordinal,
        messageId: row.id,
        messagePosition: row.position,
        callIndex: index,
        callId: call.id,
        name: call.name,
        arguments: call.arguments,
        format: 'chat',
      });
    }
    if (m.toolCallId) {
      ordinal += 1;
      await tx.insert(toolResults).values({
        conversationId,
        ordinal,
        callOrdinal: callOrdinals.get(m.toolCallId) ?? null,
        callId: m.toolCallId,
        messageId: row.id,
        output: m.content,
      });
    }
  }
  return inserted;
}

export async function createTask(tx: Tx, title: string) {
  const [task] = await tx.insert(tasks).values({ title }).returning();
  return task;
}

export async function listTasks(tx: Tx, userId: string) {
  return tx.select().from(tasks).where(eq(tasks.userId, userId)).orderBy(desc(tasks.createdAt), desc(tasks.id)).limit(51);
}

export async function updateTask(tx: Tx, userId: string, id: string, patch: { title?: string; completed?: boolean }) {
  const [task] = await tx.update(tasks).set(patch).where(and(eq(tasks.userId, userId), eq(tasks.id, id))).returning();
  return task;
}

export async function listConversations(tx: Tx, userId: string) {
  return tx
    .select()
    .from(conversations)
    .where(eq(conversations.userId, userId))
    .orderBy(desc(conversations.updatedAt), desc(conversations.id))
    .limit(51);
}
