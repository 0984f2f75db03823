/**
 * The repositories a withUser callback receives as tx.tasks, tx.conversations,
 * tx.messages, tx.users, tx.toolCalls and tx.usage, all bound to the transaction's one query runner.
 */
import type { QueryRunner } from '../query-runner.js';
import { conversationsRepository, type ConversationsRepository } from './conversations.js';
import { messagesRepository, type MessagesRepository } from './messages.js';
import { tasksRepository, type TasksRepository } from './tasks.js';
import { toolCallsRepository, type ToolCallsRepository } from './tool-calls.js';
import { usageRepository, type UsageRepository } from './usage.js';
import { usersRepository, type UsersRepository } from './users.js';

export interface Repositories {
  readonly tasks: TasksRepository;
  readonly conversations: ConversationsRepository;
  readonly messages: MessagesRepository;
  readonly users: UsersRepository;
  readonly toolCalls: ToolCallsRepository;
  readonly usage: UsageRepository;
}

export function createRepositories(db: QueryRunner): Repositories {
  return {
    tasks: tasksRepository(db),
    conversations: conversationsRepository(db),
    messages: messagesRepository(db),
    users: usersRepository(db),
    toolCalls: toolCallsRepository(db),
    usage: usageRepository(db),
  };
}
