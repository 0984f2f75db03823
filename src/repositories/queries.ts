/**
 * The generated queries of sql/, each carrying its @name (src/named-query.ts),
 * one set per sql/ file.
 */
import { nameQueries } from '../named-query.js';
import * as conversations from '../queries/conversations.queries.js';
import * as messages from '../queries/messages.queries.js';
import * as tasks from '../queries/tasks.queries.js';
import * as toolCalls from '../queries/tool-calls.queries.js';
import * as usage from '../queries/usage.queries.js';
import * as users from '../queries/users.queries.js';

export const conversationQueries = nameQueries(conversations);
export const messageQueries = nameQueries(messages);
export const taskQueries = nameQueries(tasks);
export const toolCallQueries = nameQueries(toolCalls);
export const usageQueries = nameQueries(usage);
export const userQueries = nameQueries(users);
