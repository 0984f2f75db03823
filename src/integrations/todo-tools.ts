/**
 * The chatbot's task tools (add, list, complete, reopen, update, delete),
 * once, for both SDKs: a name, a description for the model, the input
 * schemas, and what the call does with a transaction. Each call runs in
 * withUser of the user the tools are bound to, so a task id of another
 * user's (a prompt injection, a hallucination) finds nothing. Not-found and
 * invalid input are results the model can act on ({ ok: false, error,
 * message }), never thrown; anything else (the database unreachable, a bug)
 * is thrown, so that the run fails loudly rather than the model apologising
 * for an outage.
 *
 * Inputs are zod schemas built from the library's own (TaskTitle, Id, ...),
 * twice: TodoToolInputs checks a call with them; TodoToolParameters, what the
 * SDKs are given, is their JSON types with the same descriptions. The SDK
 * then only refuses a value of the wrong JSON type, and a value the library
 * refuses (a title too long, an id that is no UUID) reaches the call and
 * comes back as an invalid_input result saying why. Every field is required,
 * optional ones being nullable, and no JSON Schema carries a length or range
 * keyword (the limits are in the descriptions): the subset that OpenAI's
 * strict function calling and the other providers of the AI SDK all accept.
 */
import { z } from 'zod';
import { ConflictError, NotFoundError, UsageError, ValidationError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { Id, TaskDescription, TaskTitle, UserId, parseInput } from '../schemas.js';
import type { Store } from '../store.js';
import type { Transaction } from '../transaction.js';
import type { Task } from '../repositories/tasks.js';

/** A task as the model sees it: dates as ISO strings. */
export interface ToolTask {
  id: string;
  title: string;
  description: string;
  completed: boolean;
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What a todo tool returns to the model. */
export type TodoToolResult =
  | { ok: true; task: ToolTask }
  | { ok: true; tasks: ToolTask[]; nextCursor: string | null }
  | { ok: true; deleted: string }
  | { ok: false; error: 'not_found' | 'invalid_input' | 'conflict'; message: string; issues?: { path: string; message: string }[] };

/**
 * A field twice from one place: `checked` passes the value through the
 * library's schema (piped into its plain JSON type, so that its JSON Schema
 * exists in both directions), `shown` is that JSON type alone, as the model
 * is given it. Both carry the description that tells the model the limits.
 */
interface FieldPair<Checked extends z.ZodType, Shown extends z.ZodType> {
  checked: Checked;
  shown: Shown;
}

function text(check: z.ZodType<string, string>, description: string) {
  return { checked: check.pipe(z.string()).describe(description), shown: z.string().describe(description) };
}

function nullableText(check: z.ZodType<string, string>, description: string) {
  return { checked: check.pipe(z.string()).nullable().describe(description), shown: z.string().nullable().describe(description) };
}

function nullableBoolean(description: string) {
  return { checked: z.boolean().nullable().describe(description), shown: z.boolean().nullable().describe(description) };
}

function input<F extends Record<string, FieldPair<z.ZodType, z.ZodType>>>(fields: F) {
  const pick = (side: 'checked' | 'shown') => Object.fromEntries(Object.entries(fields).map(([name, pair]) => [name, pair[side]]));
  return {
    checked: z.object(pick('checked')) as z.ZodObject<{ [K in keyof F]: F[K]['checked'] }>,
    shown: z.object(pick('shown')) as z.ZodObject<{ [K in keyof F]: F[K]['shown'] }>,
  };
}

const taskId = () => text(Id, 'The id of the task, a UUID exactly as add_task or list_tasks returned it.');
const TITLE = `The title of the task: ${LIMITS.taskTitle.min} to ${LIMITS.taskTitle.max} characters`;
const DETAILS = `Details of the task, at most ${LIMITS.taskDescription.max} characters`;

const INPUTS = {
  add_task: input({ title: text(TaskTitle, `${TITLE}.`), description: nullableText(TaskDescription, `${DETAILS}; null for none.`) }),
  list_tasks: input({
    completed: nullableBoolean('true: only completed tasks; false: only open tasks; null: all tasks.'),
    cursor: nullableText(z.string(), 'null for the first page; otherwise the nextCursor of the previous page.'),
  }),
  complete_task: input({ taskId: taskId() }),
  reopen_task: input({ taskId: taskId() }),
  update_task: input({
    taskId: taskId(),
    title: nullableText(TaskTitle, `The new title (${TITLE.slice(4).toLowerCase()}), or null to keep it.`),
    description: nullableText(TaskDescription, `The new details (${DETAILS.toLowerCase()}), or null to keep them.`),
  }),
  delete_task: input({ taskId: taskId() }),
};

/** What each tool's input must satisfy: the library's schemas (titles trimmed, ids lower-cased, every limit). */
export const TodoToolInputs = {
  add_task: INPUTS.add_task.checked,
  list_tasks: INPUTS.list_tasks.checked,
  complete_task: INPUTS.complete_task.checked,
  reopen_task: INPUTS.reopen_task.checked,
  update_task: INPUTS.update_task.checked,
  delete_task: INPUTS.delete_task.checked,
};

/**
 * What the SDKs are given as each tool's input schema: the JSON types of
 * TodoToolInputs with the same descriptions, so that a value the library
 * refuses (a title too long, an id that is no UUID) reaches the call and
 * comes back as an invalid_input result saying why, in both SDKs alike.
 */
export const TodoToolParameters = {
  add_task: INPUTS.add_task.shown,
  list_tasks: INPUTS.list_tasks.shown,
  complete_task: INPUTS.complete_task.shown,
  reopen_task: INPUTS.reopen_task.shown,
  update_task: INPUTS.update_task.shown,
  delete_task: INPUTS.delete_task.shown,
};

export type TodoToolName = keyof typeof TodoToolInputs;
export type TodoToolInput<N extends TodoToolName> = z.output<(typeof TodoToolInputs)[N]>;

export const TODO_TOOL_NAMES = Object.keys(TodoToolInputs) as TodoToolName[];

export const TODO_TOOL_DESCRIPTIONS: Record<TodoToolName, string> = {
  add_task: "Adds a task to the user's todo list and returns it with its id.",
  list_tasks: `Lists the user's tasks, newest first, ${LIMITS.page.defaultLimit} at a time; pass nextCursor back for more.`,
  complete_task: 'Marks a task as done.',
  reopen_task: 'Marks a done task as not done again.',
  update_task: 'Changes the title and/or the details of a task.',
  delete_task: 'Deletes a task for good.',
};

function toolTask(task: Task): ToolTask {
  return {
    id: task.id,
    title: task.title,
    description: task.description,
    completed: task.completed,
    completedAt: task.completedAt?.toISOString() ?? null,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
  };
}

const RUN: { [N in TodoToolName]: (tx: Transaction, input: TodoToolInput<N>) => Promise<TodoToolResult> } = {
  async add_task(tx, input) {
    return { ok: true, task: toolTask(await tx.tasks.create({ title: input.title, description: input.description ?? '' })) };
  },
  async list_tasks(tx, input) {
    const page = await tx.tasks.list({
      ...(input.completed === null ? {} : { completed: input.completed }),
      ...(input.cursor === null ? {} : { cursor: input.cursor }),
    });
    return { ok: true, tasks: page.items.map(toolTask), nextCursor: page.nextCursor };
  },
  async complete_task(tx, input) {
    return { ok: true, task: toolTask(await tx.tasks.complete(input.taskId)) };
  },
  async reopen_task(tx, input) {
    return { ok: true, task: toolTask(await tx.tasks.reopen(input.taskId)) };
  },
  async update_task(tx, input) {
    if (input.title === null && input.description === null) return invalidInput('update_task needs a new title or new details: both were null.');
    const patch = { ...(input.title === null ? {} : { title: input.title }), ...(input.description === null ? {} : { description: input.description }) };
    return { ok: true, task: toolTask(await tx.tasks.update(input.taskId, patch)) };
  },
  async delete_task(tx, input) {
    await tx.tasks.delete(input.taskId);
    return { ok: true, deleted: input.taskId };
  },
};

/** A refusal the model can act on. */
export function invalidInput(message: string, issues: { path: (string | number)[]; message: string }[] = []): TodoToolResult {
  return {
    ok: false,
    error: 'invalid_input',
    message,
    ...(issues.length > 0 ? { issues: issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) } : {}),
  };
}

/** What a tool's input must be, from its schema's descriptions: for a refusal whose details the SDK withheld. */
export function expectedInput(name: TodoToolName): string {
  const fields = Object.entries(TodoToolInputs[name].shape as Record<string, z.ZodType>).map(([field, schema]) => `${field}: ${schema.description ?? 'required'}`);
  return `${name} takes a JSON object with exactly these fields: ${fields.join('; ')}`;
}

/** The store and the one user a set of tools acts for, checked once when the tools are made. */
export interface TodoToolsBinding {
  store: Store;
  userId: string;
}

export function bindTodoTools(options: TodoToolsBinding): TodoToolsBinding {
  if (typeof options?.store?.withUser !== 'function') throw new UsageError('createTodoTools needs { store, userId }: store is not a todo-chat-db store');
  return { store: options.store, userId: parseInput(UserId, options.userId, 'user id') };
}

/**
 * Runs one tool call for the bound user, in its own withUser (or the open one
 * of the same user it is called from). The input is parsed again with the
 * tool's schema, so that a call that did not go through the SDK's parsing is
 * held to the same rules.
 */
export async function runTodoTool<N extends TodoToolName>(binding: TodoToolsBinding, name: N, rawInput: unknown): Promise<TodoToolResult> {
  const parsed = TodoToolInputs[name].safeParse(rawInput);
  if (!parsed.success) {
    const error = ValidationError.fromZod(`${name} input`, parsed.error);
    return invalidInput(error.message, error.issues);
  }
  try {
    return await binding.store.withUser(binding.userId, (tx) => RUN[name](tx, parsed.data as TodoToolInput<N>));
  } catch (error) {
    // Not found covers another user's task: the model is told exactly what it is told for an id that exists for nobody.
    if (error instanceof NotFoundError && error.entity === 'task') return { ok: false, error: 'not_found', message: `No task with id ${error.id ?? ''} in this user's list.` };
    if (error instanceof ValidationError && error.sqlState === undefined) return invalidInput(error.message, error.issues);
    if (error instanceof ConflictError) return { ok: false, error: 'conflict', message: error.message };
    throw error;
  }
}
