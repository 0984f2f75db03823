/**
 * The repositories a withUser callback receives as tx.tasks, tx.conversations,
 * tx.messages and tx.users, all bound to the transaction's one session.
 */
import type { Session } from '../session.js';
import { conversationsRepository, type ConversationsRepository } from './conversations.js';
import { messagesRepository, type MessagesRepository } from './messages.js';
import { tasksRepository, type TasksRepository } from './tasks.js';
import { usersRepository, type UsersRepository } from './users.js';

export interface Repositories {
  readonly tasks: TasksRepository;
  readonly conversations: ConversationsRepository;
  readonly messages: MessagesRepository;
  readonly users: UsersRepository;
}

export function createRepositories(session: Session, userId: string): Repositories {
  return {
    tasks: tasksRepository(session, userId),
    conversations: conversationsRepository(session, userId),
    messages: messagesRepository(session, userId),
    users: usersRepository(session, userId),
  };
}
