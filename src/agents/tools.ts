/**
 * The todo tools as OpenAI Agents SDK function tools (`tool()` of
 * @openai/agents-core, strict mode), bound to one user. Not-found and values
 * the library refuses come back from the call as { ok: false } results;
 * arguments of the wrong JSON type, which the SDK refuses before the call,
 * come back as an invalid_input result through the tool's errorFunction (and
 * arguments that are not JSON at all, the SDK's runner answers itself). Any
 * other error is thrown and ends the run.
 */
import { ModelBehaviorError, tool, type FunctionTool } from '@openai/agents-core';
import { ZodError } from 'zod';
import { ValidationError } from '../errors.js';
import {
  TODO_TOOL_DESCRIPTIONS,
  TODO_TOOL_NAMES,
  TodoToolParameters,
  bindTodoTools,
  expectedInput,
  invalidInput,
  runTodoTool,
  type TodoToolName,
  type TodoToolsBinding,
} from '../integrations/todo-tools.js';

export interface CreateAgentsTodoToolsOptions {
  store: TodoToolsBinding['store'];
  /** The one user every call acts for. */
  userId: string;
}

/**
 * Why the SDK refused the model's arguments, as a result for the model (JSON
 * text, as the SDK sends tool output). The SDK keeps the parse error only
 * when logging tool data is allowed; otherwise the model is told what the
 * input must be.
 */
function refusal(name: TodoToolName, error: unknown): string {
  const cause = (error as { originalError?: unknown })?.originalError;
  if (cause instanceof ZodError) {
    const refused = ValidationError.fromZod(`${name} input`, cause);
    return JSON.stringify(invalidInput(`${refused.message}. ${expectedInput(name)}.`, refused.issues));
  }
  return JSON.stringify(invalidInput(`invalid ${name} input: the arguments do not match the tool's schema. ${expectedInput(name)}.`));
}

/** add_task, list_tasks, complete_task, reopen_task, update_task, delete_task, for `new Agent({ tools })`. */
export function createTodoTools(options: CreateAgentsTodoToolsOptions): FunctionTool[] {
  const binding = bindTodoTools(options);
  return TODO_TOOL_NAMES.map((name) =>
    tool({
      name,
      description: TODO_TOOL_DESCRIPTIONS[name],
      parameters: TodoToolParameters[name],
      strict: true,
      execute: (input: unknown) => runTodoTool(binding, name, input),
      errorFunction: (_context: unknown, error: unknown) => {
        // The model's arguments did not parse: tell it. Anything else ends the run.
        if (error instanceof ModelBehaviorError) return refusal(name, error);
        throw error;
      },
    }) as unknown as FunctionTool,
  );
}
