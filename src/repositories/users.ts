/**
 * tx.users: the current user's own row, its erasure and its data export.
 */
import type { QueryRunner } from '../query-runner.js';
import type { IGetUserResult } from '../queries/users.queries.js';
import { conversationQueries, messageQueries, taskQueries, userQueries as q } from './queries.js';
import type { Task } from './tasks.js';
import { toConversation, type Conversation } from './conversations.js';
import { toMessage, type Message } from './messages.js';

/** The current user's row (the generated row type of GetUser). */
export type User = IGetUserResult;

/** Everything a user owns, as one JSON-serialisable document (data portability). */
export interface UserExport {
  format: 'todo-chat-db/export@1';
  exportedAt: string;
  user: User;
  tasks: Task[];
  conversations: (Conversation & { messages: Message[] })[];
}

export function usersRepository(db: QueryRunner) {
  const { userId } = db;
  const missingUser = { notFound: ['user', userId] } as const;

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

    /** Erases the user and, by cascade, every task, conversation and message they own. */
    async delete(): Promise<void> {
      await db.one(q.deleteUser, undefined, missingUser);
    },

    /** All of the user's data as one document. */
    async export(): Promise<UserExport> {
      const user = await db.one(q.getUser, undefined, missingUser);
      const tasks = await db.many(taskQueries.exportTasks, { userId });
      const conversations = (await db.many(conversationQueries.exportConversations, { userId })).map(toConversation);
      const messages = (await db.many(messageQueries.exportMessages, { userId })).map(toMessage);
      const byConversation = new Map<string, Message[]>();
      for (const message of messages) {
        const list = byConversation.get(message.conversationId);
        if (list) list.push(message);
        else byConversation.set(message.conversationId, [message]);
      }
      return {
        format: 'todo-chat-db/export@1',
        exportedAt: new Date().toISOString(),
        user,
        tasks,
        conversations: conversations.map((c) => ({ ...c, messages: byConversation.get(c.id) ?? [] })),
      };
    },
  };
}

export type UsersRepository = ReturnType<typeof usersRepository>;
