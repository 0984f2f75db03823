/**
 * tx.users: the current user's own row, its erasure and its data export.
 */
import type { Session } from '../session.js';
import * as q from '../queries/users.queries.js';
import * as tq from '../queries/tasks.queries.js';
import * as cq from '../queries/conversations.queries.js';
import * as mq from '../queries/messages.queries.js';
import type { Task } from './tasks.js';
import type { Conversation } from './conversations.js';
import type { Message } from './messages.js';

/** The current user's row (the generated row type of GetUser). */
export type User = q.IGetUserResult;

/** Everything a user owns, as one JSON-serialisable document (data portability). */
export interface UserExport {
  format: 'todo-chat-db/export@1';
  exportedAt: string;
  user: User;
  tasks: Task[];
  conversations: (Conversation & { messages: Message[] })[];
}

export function usersRepository(session: Session, userId: string) {
  return {
    /** Creates the current user's row if missing; idempotent. */
    async ensure(): Promise<User> {
      const created = await session.maybeOne('EnsureUser', q.ensureUser, undefined);
      return created ?? session.one('GetUser', q.getUser, undefined, 'user', userId);
    },

    /** The current user's row; NotFoundError until ensure() created it. */
    async get(): Promise<User> {
      return session.one('GetUser', q.getUser, undefined, 'user', userId);
    },

    /** Erases the user and, by cascade, every task, conversation and message they own. */
    async delete(): Promise<void> {
      await session.one('DeleteUser', q.deleteUser, undefined, 'user', userId);
    },

    /** All of the user's data as one document. */
    async export(): Promise<UserExport> {
      const user = await session.one('GetUser', q.getUser, undefined, 'user', userId);
      const tasks = await session.many('ExportTasks', tq.exportTasks, { userId });
      const conversations = (await session.many('ExportConversations', cq.exportConversations, { userId })) as Conversation[];
      const messages = (await session.many('ExportMessages', mq.exportMessages, { userId })) as Message[];
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
