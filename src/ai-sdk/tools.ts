/**
 * The todo tools as AI SDK tools (`tool()` of `ai`), bound to one user, keyed
 * by name as `streamText({ tools })` takes them. Not-found and values the
 * library refuses come back from the call as { ok: false } results; input of
 * the wrong JSON type never reaches the call: the AI SDK gives the model a
 * tool error naming what was wrong, and the run goes on.
 */
import { tool, type Tool } from 'ai';
import {
  TODO_TOOL_DESCRIPTIONS,
  TodoToolParameters,
  bindTodoTools,
  runTodoTool,
  type TodoToolInput,
  type TodoToolName,
  type TodoToolResult,
  type TodoToolsBinding,
} from '../integrations/todo-tools.js';

export interface CreateAiSdkTodoToolsOptions {
  store: TodoToolsBinding['store'];
  /** The one user every call acts for. */
  userId: string;
}

/** The tools, by name. */
export type TodoTools = { [N in TodoToolName]: Tool<TodoToolInput<N>, TodoToolResult> };

/** add_task, list_tasks, complete_task, reopen_task, update_task, delete_task, for `streamText({ tools })`. */
export function createTodoTools(options: CreateAiSdkTodoToolsOptions): TodoTools {
  const binding = bindTodoTools(options);
  const make = <N extends TodoToolName>(name: N): Tool<TodoToolInput<N>, TodoToolResult> =>
    tool({
      description: TODO_TOOL_DESCRIPTIONS[name],
      inputSchema: TodoToolParameters[name],
      execute: (input: TodoToolInput<N>) => runTodoTool(binding, name, input),
    } as Tool<TodoToolInput<N>, TodoToolResult>);
  return {
    add_task: make('add_task'),
    list_tasks: make('list_tasks'),
    complete_task: make('complete_task'),
    reopen_task: make('reopen_task'),
    update_task: make('update_task'),
    delete_task: make('delete_task'),
  };
}
