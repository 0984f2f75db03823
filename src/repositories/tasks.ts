/**
 * tx.tasks: the current user's todo items.
 */
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { Id, TaskDescription, TaskTitle, parseInput } from '../schemas.js';
import type { QueryRunner } from '../query-runner.js';
import type { NamedQuery } from '../named-query.js';
import type { IGetTaskResult } from '../queries/tasks.queries.js';
import { taskQueries as q } from './queries.js';
import { PageCursor, byTimestampAndId, keysetPage, pageLimit, type Page, type TimestampIdKeyset } from './pagination.js';

/** A task as stored (the generated row type of GetTask). */
export type Task = IGetTaskResult;

export const CreateTaskInput = z.strictObject({
  id: Id.optional(),
  title: TaskTitle,
  description: TaskDescription.default(''),
  completed: z.boolean().default(false),
});
export type CreateTaskInput = z.input<typeof CreateTaskInput>;

const ExpectedVersion = z.number().int().min(1).max(2_147_483_647);

export const UpdateTaskInput = z
  .strictObject({
    title: TaskTitle.optional(),
    description: TaskDescription.optional(),
    completed: z.boolean().optional(),
    expectedVersion: ExpectedVersion.optional(),
  })
  .refine((patch) => patch.title !== undefined || patch.description !== undefined || patch.completed !== undefined, {
    message: 'a patch needs at least one of title, description, completed',
  });
export type UpdateTaskInput = z.input<typeof UpdateTaskInput>;

export const ListTasksOptions = z.strictObject({
  completed: z.boolean().optional(),
  order: z.enum(['newest', 'oldest']).default('newest'),
  limit: pageLimit(LIMITS.page),
  cursor: PageCursor.optional(),
});
export type ListTasksOptions = z.input<typeof ListTasksOptions>;

/** The optimistic-concurrency condition of complete, reopen and delete: act only while the task is at this version. */
export const ExpectedVersionOption = z.strictObject({ expectedVersion: ExpectedVersion.optional() });
export type ExpectedVersionOption = z.input<typeof ExpectedVersionOption>;

type Keyset = TimestampIdKeyset & { userId: string };
type TaskList = NamedQuery<Keyset, Task>;
type TaskListByCompleted = NamedQuery<Keyset & { completed: boolean }, Task>;

/** The list queries of each order, unfiltered and filtered by completed (each served by its own index). */
const TASK_LISTS: Record<'newest' | 'oldest', { all: TaskList; byCompleted: TaskListByCompleted }> = {
  newest: { all: q.listTasksNewest, byCompleted: q.listTasksNewestByCompleted },
  oldest: { all: q.listTasksOldest, byCompleted: q.listTasksOldestByCompleted },
};

export function tasksRepository(db: QueryRunner) {
  async function explainMissing(id: string, expectedVersion: number | undefined): Promise<never> {
    if (expectedVersion !== undefined) {
      const current = await db.maybeOne(q.getTask, { id }, { notFound: ['task', id] });
      if (current) {
        throw new ConflictError(`task ${id} is at version ${current.version}, not the expected ${expectedVersion}`);
      }
    }
    throw new NotFoundError('task', id);
  }

  async function update(rawId: string, rawPatch: UpdateTaskInput): Promise<Task> {
    const id = parseInput(Id, rawId, 'task id');
    const patch = parseInput(UpdateTaskInput, rawPatch, 'task patch');
    const row = await db.maybeOne(q.updateTask, {
      id,
      title: patch.title ?? null,
      description: patch.description ?? null,
      completed: patch.completed ?? null,
      expectedVersion: patch.expectedVersion ?? null,
    }, { notFound: ['task', id] });
    return row ?? explainMissing(id, patch.expectedVersion);
  }

  return {
    /**
     * Creates a task. `id` may be chosen by the caller, which makes a retry
     * safe: creating it again with the same title, description and completed
     * returns the stored task (written once); with other content it is a
     * ConflictError.
     */
    async create(input: CreateTaskInput): Promise<Task> {
      const task = parseInput(CreateTaskInput, input, 'task');
      const created = await db.maybeOne(
        q.createTask,
        { id: task.id ?? null, title: task.title, description: task.description, completed: task.completed },
        { notFound: ['user'] },
      );
      if (created) return created;
      const id = task.id!;
      const stored = await db.maybeOne(q.getTask, { id });
      if (stored && stored.title === task.title && stored.description === task.description && stored.completed === task.completed) return stored;
      throw new ConflictError(`task ${id} already exists with other content`);
    },

    /** One task; NotFoundError when it does not exist or belongs to another user. */
    async get(rawId: string): Promise<Task> {
      const id = parseInput(Id, rawId, 'task id');
      return db.one(q.getTask, { id }, { notFound: ['task', id] });
    },

    /** A page of tasks, newest (default) or oldest first, optionally by completed; keyset-paginated. */
    async list(rawOptions: ListTasksOptions = {}): Promise<Page<Task>> {
      const options = parseInput(ListTasksOptions, rawOptions, 'list options');
      const { completed, order } = options;
      const lists = TASK_LISTS[order];
      const list = byTimestampAndId<Task>(`tasks:${order}:${completed ?? 'all'}`, order, (task) => task.createdAt);
      return keysetPage(list, options, (keyset) =>
        completed === undefined
          ? db.many(lists.all, { userId: db.userId, ...keyset })
          : db.many(lists.byCompleted, { userId: db.userId, completed, ...keyset }),
      );
    },

    /** Partial update of title, description and completed; with expectedVersion, ConflictError if the task moved on. */
    update,

    /** Marks a task completed (completed_at set by the database). */
    async complete(rawId: string, options: ExpectedVersionOption = {}): Promise<Task> {
      return update(rawId, { completed: true, ...options });
    },

    /** Marks a task not completed (completed_at cleared). */
    async reopen(rawId: string, options: ExpectedVersionOption = {}): Promise<Task> {
      return update(rawId, { completed: false, ...options });
    },

    /** Deletes a task; with expectedVersion, ConflictError if the task moved on. */
    async delete(rawId: string, rawOptions: ExpectedVersionOption = {}): Promise<void> {
      const id = parseInput(Id, rawId, 'task id');
      const options = parseInput(ExpectedVersionOption, rawOptions, 'delete options');
      const row = await db.maybeOne(q.deleteTask, { id, expectedVersion: options.expectedVersion ?? null }, { notFound: ['task', id] });
      if (!row) await explainMissing(id, options.expectedVersion);
    },
  };
}

export type TasksRepository = ReturnType<typeof tasksRepository>;
