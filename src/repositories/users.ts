/**
 * tx.users: the current user's own row, its erasure and its data export.
 */
import { LIMITS } from '../limits.js';
import { InternalError, TooLargeError } from '../errors.js';
import type { QueryRunner } from '../query-runner.js';
import type { IGetUserResult } from '../queries/users.queries.js';
import { conversationQueries, taskQueries, userQueries as q } from './queries.js';
import type { Task } from './tasks.js';
import { toConversation, type Conversation } from './conversations.js';
import { messagesRepository, type Message } from './messages.js';
import { toolCallsRepository, type ToolCallRecord } from './tool-calls.js';
import { exportUsagePage, type UsageRecord } from './usage.js';
import { NIL_UUID } from './pagination.js';

/** The current user's row (the generated row type of GetUser). */
export type User = IGetUserResult;

/** Everything a user owns, as one JSON-serialisable document (data portability). */
export interface UserExport {
  format: 'todo-chat-db/export@3';
  exportedAt: string;
  user: User;
  tasks: Task[];
  conversations: (Conversation & { messages: Message[] })[];
  toolCalls: ToolCallRecord[];
  /** What each of the user's runs cost (tx.usage), oldest first. */
  usage: UsageRecord[];
}

/**
 * One piece of an export read in batches, in this order: the user; their tasks, in
 * batches; each conversation followed by its messages, in batches; the
 * tool-call audit, in batches; the usage records, in batches.
 */
export type UserExportChunk =
  | { type: 'user'; user: User }
  | { type: 'tasks'; tasks: Task[] }
  | { type: 'conversation'; conversation: Conversation }
  | { type: 'messages'; conversationId: string; messages: Message[] }
  | { type: 'toolCalls'; toolCalls: ToolCallRecord[] }
  | { type: 'usage'; usage: UsageRecord[] };

export function usersRepository(db: QueryRunner) {
  const { userId } = db;
  const missingUser = { notFound: ['user', userId] } as const;
  const batch = LIMITS.batch.defaultSize;

  async function* byId<R extends { id: string }>(read: (afterId: string) => Promise<R[]>): AsyncGenerator<R[], void, undefined> {
    let afterId = NIL_UUID;
    for (;;) {
      const rows = await read(afterId);
      if (rows.length > 0) yield rows;
      if (rows.length < batch) return;
      afterId = rows[rows.length - 1]!.id;
    }
  }

  async function* exportBatches(): AsyncGenerator<UserExportChunk, void, undefined> {
    yield { type: 'user', user: await db.one(q.getUser, undefined, missingUser) };
    for await (const tasks of byId((afterId) => db.many(taskQueries.exportTasks, { userId, afterId, limit: batch }))) {
      yield { type: 'tasks', tasks };
    }
    const messages = messagesRepository(db);
    for await (const conversations of byId((afterId) => db.many(conversationQueries.exportConversations, { userId, afterId, limit: batch }))) {
      for (const row of conversations) {
        const conversation = toConversation(row);
        yield { type: 'conversation', conversation };
        for await (const page of messages.batches(conversation.id, { batchSize: batch })) {
          yield { type: 'messages', conversationId: conversation.id, messages: page };
        }
      }
    }
    const toolCalls = toolCallsRepository(db);
    let cursor: string | undefined;
    do {
      const page = await toolCalls.list({ limit: LIMITS.page.maxLimit, ...(cursor ? { cursor } : {}) });
      if (page.items.length > 0) yield { type: 'toolCalls', toolCalls: page.items };
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    let after: { cursorAt: Date | string; cursorId: string } = { cursorAt: '-infinity', cursorId: '' };
    for (;;) {
      const usage = await exportUsagePage(db, after, batch);
      if (usage.length > 0) yield { type: 'usage', usage };
      if (usage.length < batch) return;
      const last = usage[usage.length - 1]!;
      after = { cursorAt: last.createdAt, cursorId: last.id };
    }
  }

  return {
    /** Creates the current user's row if missing; idempotent. */
    async ensure(): Promise<User> {
      const created = await db.maybeOne(q.ensureUser, undefined);
      return created ?? db.one(q.getUser, undefined, missingUser);
    },

    /** The current user's row; NotFoundError until ensure() created it. */
    async get(): Promise<User> {
      return db.one(q.getUser, undefined, missingUser);
    },

    /** Erases the user and, by cascade, every task, conversation, message, tool-call record and usage record they own. */
    async delete(): Promise<void> {
      await db.one(q.deleteUser, undefined, missingUser);
    },

    /**
     * All of the user's data as one document; TooLargeError (nothing read)
     * beyond LIMITS.userExport: then read it with exportBatches().
     */
    async export(): Promise<UserExport> {
      const { maxRows, maxHistoryBytes } = LIMITS.userExport;
      const size = await db.one(q.getUserDataSize, { userId }, missingUser);
      const rows = Number(size.tasks) + Number(size.conversations) + Number(size.messages) + Number(size.toolCalls) + Number(size.usage);
      if (rows > maxRows || Number(size.historyBytes) > maxHistoryBytes) {
        throw new TooLargeError(
          `the user's data is ${rows} rows with ${size.historyBytes} bytes of history, more than users.export() reads at once ` +
            `(${maxRows} rows, ${maxHistoryBytes} bytes): read it in batches with users.exportBatches()`,
        );
      }
      let user: User | undefined;
      const tasks: Task[] = [];
      const conversations: UserExport['conversations'] = [];
      const toolCalls: ToolCallRecord[] = [];
      const usage: UsageRecord[] = [];
      for await (const chunk of exportBatches()) {
        if (chunk.type === 'user') user = chunk.user;
        else if (chunk.type === 'tasks') tasks.push(...chunk.tasks);
        else if (chunk.type === 'conversation') conversations.push({ ...chunk.conversation, messages: [] });
        else if (chunk.type === 'messages') conversations[conversations.length - 1]!.messages.push(...chunk.messages);
        else if (chunk.type === 'toolCalls') toolCalls.push(...chunk.toolCalls);
        else usage.push(...chunk.usage);
      }
      if (!user) throw new InternalError('the export batches yielded no user');
      return { format: 'todo-chat-db/export@3', exportedAt: new Date().toISOString(), user, tasks, conversations, toolCalls, usage };
    },

    /** All of the user's data, in chunks of bounded size: memory does not grow with the data. */
    exportBatches,
  };
}

export type UsersRepository = ReturnType<typeof usersRepository>;
