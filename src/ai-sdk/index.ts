/**
 * todo-chat-db/ai-sdk: persistence and tools for the Vercel AI SDK (`ai`, an
 * optional peer dependency): saveUIMessages and loadUIMessages over one
 * conversation, the usage of a run, and the todo tools bound to one user.
 */
export { saveUIMessages, loadUIMessages } from './messages.js';
export type { UIMessageLike, RunUsage, SaveUIMessagesOptions, SaveUIMessagesResult, LoadUIMessagesOptions } from './messages.js';
export { aiSdkUsage } from './usage.js';
export type { AiSdkRunLike, AiSdkTokenUsage, AiSdkUsageOptions } from './usage.js';
export { createTodoTools } from './tools.js';
export type { CreateAiSdkTodoToolsOptions, TodoTools } from './tools.js';
export { TODO_TOOL_NAMES, TodoToolInputs, TodoToolParameters } from '../integrations/todo-tools.js';
export type { TodoToolName, TodoToolResult, ToolTask } from '../integrations/todo-tools.js';
