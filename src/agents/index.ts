/**
 * todo-chat-db/agents: memory and tools for the OpenAI Agents SDK
 * (@openai/agents, an optional peer dependency): PostgresSession, a Session
 * over one conversation of one user, and the todo tools bound to one user.
 */
export { PostgresSession } from './session.js';
export type {
  PostgresSessionOptions,
  CreatePostgresSessionOptions,
  AgentsUsageLike,
  AgentsRunLike,
  RecordAgentsUsageOptions,
} from './session.js';
export { createTodoTools } from './tools.js';
export type { CreateAgentsTodoToolsOptions } from './tools.js';
export { TODO_TOOL_NAMES, TodoToolInputs, TodoToolParameters } from '../integrations/todo-tools.js';
export type { TodoToolName, TodoToolResult, ToolTask } from '../integrations/todo-tools.js';
