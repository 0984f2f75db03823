/**
 * tx.tasks: the current user's todo items.
 */
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { Id, TaskDescription, TaskTitle, parseInput } from '../schemas.js';
import type { Session } from '../session.js';
import * as q from '../queries/tasks.queries.js';
import { decodeCursor, encodeCursor, type Page } from './cursor.js';

/** A task as stored (the generated row type of GetTask). */
export type Task = q.IGetTaskResult;

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
  limit: z.number().int().min(1).max(LIMITS.page.maxLimit).default(LIMITS.page.defaultLimit),
  // An empty cursor is refused rather than read as "first page": a client that
  // turned a null nextCursor into "" would otherwise loop forever.
  cursor: z.string().min(1).max(512).optional(),
});
export type ListTasksOptions = z.input<typeof ListTasksOptions>;

export const DeleteTaskOptions = z.strictObject({ expectedVersion: ExpectedVersion.optional() });
export type DeleteTaskOptions = z.input<typeof DeleteTaskOptions>;

const MAX_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export function tasksRepository(session: Session, userId: string) {
  async function explainMissing(id: string, expectedVersion: number | undefined): Promise<never> {
    if (expectedVersion !== undefined) {
      const current = await session.maybeOne('GetTask', q.getTask, { id }, 'task');
      if (current) {
        throw new ConflictError(`task ${id} is at version ${current.version}, not the expected ${expectedVersion}`);
      }
    }
    throw new NotFoundError('task', id);
  }

  async function update(rawId: string, rawPatch: UpdateTaskInput): Promise<Task> {
    const id = parseInput(Id, rawId, 'task id');
    const patch = parseInput(UpdateTaskInput, rawPatch, 'task patch');
    const row = await session.maybeOne(
      'UpdateTask',
      q.updateTask,
      {
        id,
        title: patch.title ?? null,
        description: patch.description ?? null,
        completed: patch.completed ?? null,
        expectedVersion: patch.expectedVersion ?? null,
      },
      'task',
    );
    return row ?? explainMissing(id, patch.expectedVersion);
  }

  return {
    /** Creates a task; `id` may be chosen by the caller (a repeat is a ConflictError). */
    async create(input: CreateTaskInput): Promise<Task> {
      const task = parseInput(CreateTaskInput, input, 'task');
      return session.one(
        'CreateTask',
        q.createTask,
        { id: task.id ?? null, title: task.title, description: task.description, completed: task.completed },
        'user',
      );
    },

    /** One task; NotFoundError when it does not exist or belongs to another user. */
    async get(rawId: string): Promise<Task> {
      const id = parseInput(Id, rawId, 'task id');
      return session.one('GetTask', q.getTask, { id }, 'task', id);
    },

    /** A page of tasks, newest (default) or oldest first, optionally by completed; keyset-paginated. */
    async list(rawOptions: ListTasksOptions = {}): Promise<Page<Task>> {
      const options = parseInput(ListTasksOptions, rawOptions, 'list options');
      const kind = `tasks:${options.order}:${options.completed ?? 'all'}`;
      const [at, id] = options.cursor
        ? (decodeCursor(kind, options.cursor, ['date', 'string']) as [Date, string])
        : options.order === 'newest'
          ? ['infinity', MAX_UUID]
          : ['-infinity', NIL_UUID];
      // One row more than asked tells whether another page exists.
      const limit = options.limit + 1;
      let rows: Task[];
      if (options.order === 'newest') {
        rows =
          options.completed === undefined
            ? await session.many('ListTasksNewest', q.listTasksNewest, { userId, beforeCreatedAt: at, beforeId: id, limit })
            : await session.many('ListTasksNewestByCompleted', q.listTasksNewestByCompleted, {
                userId,
                completed: options.completed,
                beforeCreatedAt: at,
                beforeId: id,
                limit,
              });
      } else {
        rows =
          options.completed === undefined
            ? await session.many('ListTasksOldest', q.listTasksOldest, { userId, afterCreatedAt: at, afterId: id, limit })
            : await session.many('ListTasksOldestByCompleted', q.listTasksOldestByCompleted, {
                userId,
                completed: options.completed,
                afterCreatedAt: at,
                afterId: id,
                limit,
              });
      }
      const hasMore = rows.length > options.limit;
      const items = hasMore ? rows.slice(0, options.limit) : rows;
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: hasMore && last ? encodeCursor(kind, [last.createdAt.toISOString(), last.id]) : null,
      };
    },

    /** Partial update of title, description and completed; with expectedVersion, ConflictError if the task moved on. */
    update,

    /** Marks a task completed (completed_at set by the database). */
    async complete(rawId: string, options: DeleteTaskOptions = {}): Promise<Task> {
      return update(rawId, { completed: true, ...options });
    },

    /** Marks a task not completed (completed_at cleared). */
    async reopen(rawId: string, options: DeleteTaskOptions = {}): Promise<Task> {
      return update(rawId, { completed: false, ...options });
    },

    /** Deletes a task; with expectedVersion, ConflictError if the task moved on. */
    async delete(rawId: string, rawOptions: DeleteTaskOptions = {}): Promise<void> {
      const id = parseInput(Id, rawId, 'task id');
      const options = parseInput(DeleteTaskOptions, rawOptions, 'delete options');
      const row = await session.maybeOne(
        'DeleteTask',
        q.deleteTask,
        { id, expectedVersion: options.expectedVersion ?? null },
        'task',
      );
      if (!row) await explainMissing(id, options.expectedVersion);
    },
  };
}

export type TasksRepository = ReturnType<typeof tasksRepository>;
