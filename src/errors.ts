/**
 * Every error todo-chat-db throws extends TodoChatDbError. Driver errors are
 * mapped here, in one place, from their SQLSTATE (or Node socket code), and the
 * original error is kept as `cause`.
 */
import type { ZodError } from 'zod';

export type ErrorCode =
  | 'VALIDATION'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'SERIALIZATION_FAILURE'
  | 'DATABASE_UNAVAILABLE'
  | 'TIMEOUT'
  | 'COMMIT_OUTCOME_UNKNOWN'
  | 'DATABASE'
  | 'TOO_LARGE'
  | 'USAGE'
  | 'CONFIGURATION'
  | 'INTERNAL'
  | 'MIGRATION';

export interface ValidationIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

export class TodoChatDbError extends Error {
  readonly code: ErrorCode;
  /** True when running the whole transaction again may succeed. */
  readonly retryable: boolean;
  /** SQLSTATE of the underlying driver error, when there was one. */
  readonly sqlState: string | undefined;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.sqlState = sqlStateOf(options.cause);
  }
}

/** Input refused, by the zod schemas before any query or by a database constraint. */
export class ValidationError extends TodoChatDbError {
  readonly issues: ValidationIssue[];
  /** The database constraint that refused the value, when the database did. */
  readonly constraint: string | undefined;

  constructor(message: string, issues: ValidationIssue[], options: { cause?: unknown; constraint?: string } = {}) {
    super('VALIDATION', message, options);
    this.issues = issues;
    this.constraint = options.constraint;
  }

  static fromZod(what: string, error: ZodError): ValidationError {
    const issues = error.issues.map((issue) => ({
      path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: issue.message,
      code: issue.code,
    }));
    const first = issues[0];
    const where = first && first.path.length > 0 ? ` at ${first.path.join('.')}` : '';
    return new ValidationError(`invalid ${what}${where}: ${first?.message ?? 'invalid input'}`, issues, { cause: error });
  }
}

/** The row does not exist for the current user (another user's row included: existence never leaks). */
export class NotFoundError extends TodoChatDbError {
  readonly entity: string;
  readonly id: string | undefined;

  constructor(entity: string, id?: string, options: { cause?: unknown } = {}) {
    super('NOT_FOUND', id === undefined ? `${entity} not found` : `${entity} ${id} not found`, options);
    this.entity = entity;
    this.id = id;
  }
}

/** A unique key already exists, or the row changed since the version the caller expected. */
export class ConflictError extends TodoChatDbError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFLICT', message, options);
  }
}

/**
 * A one-shot read would hold more than its documented bound (LIMITS); nothing
 * was read. The message names the form that reads the same data in bounded
 * batches (messages.batches, users.exportBatches).
 */
export class TooLargeError extends TodoChatDbError {
  constructor(message: string) {
    super('TOO_LARGE', message);
  }
}

/** Any other database failure. */
export class DatabaseError extends TodoChatDbError {
  constructor(message: string, options: { cause?: unknown; retryable?: boolean; code?: ErrorCode } = {}) {
    super(options.code ?? 'DATABASE', message, options);
  }
}

/** 40001 serialization_failure or 40P01 deadlock_detected: run the whole transaction again. */
export class SerializationFailureError extends DatabaseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true, code: 'SERIALIZATION_FAILURE' });
  }
}

/** The server cannot be reached, refused the connection, or the connection broke (before the commit was sent). */
export class DatabaseUnavailableError extends DatabaseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: true, code: 'DATABASE_UNAVAILABLE' });
  }
}

/** What ran out of time: the wait for a pooled connection, a statement, a lock wait, or the whole transaction. */
export type TimeoutKind = 'acquire' | 'statement' | 'lock' | 'transaction';

/**
 * A bound of docs/operations.md was reached, and nothing was committed: the
 * wait for a pooled connection (acquireTimeoutMs; retryable), a statement
 * (statementTimeoutMs, 57014), a lock wait (lockTimeoutMs, 55P03; retryable),
 * or the whole transaction (transactionTimeoutMs: the transaction was ended
 * on the server and its connection discarded, and the callback's later uses
 * of tx fail).
 */
export class TimeoutError extends DatabaseError {
  readonly kind: TimeoutKind;

  constructor(kind: TimeoutKind, message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: kind === 'acquire' || kind === 'lock', code: 'TIMEOUT' });
    this.kind = kind;
  }
}

/**
 * The connection was lost (or the transaction's deadline passed) after
 * COMMIT was sent and before its answer came: the transaction may or may not
 * have committed. Never retried by the library, and not `retryable`: a blind
 * retry could write twice. Retry with idempotent writes (caller-chosen ids:
 * a message or a task appended again with the same id and content returns
 * what is stored), or read back to find out (docs/operations.md).
 */
export class CommitOutcomeUnknownError extends DatabaseError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, retryable: false, code: 'COMMIT_OUTCOME_UNKNOWN' });
  }
}

/**
 * The caller used the library wrongly: bad createStore options, a nested
 * withUser for another user, a tx used after its transaction ended, a closed
 * store. Fix the calling code; retrying cannot help.
 */
export class UsageError extends TodoChatDbError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/**
 * The database is not set up so that row-level security isolates users: the
 * app role can log in, is a superuser, bypasses row-level security, owns
 * objects (or belongs to a role that does or is privileged), is missing, or a
 * table of the schema lacks forced row-level security. `problems` says each
 * thing wrong and how to fix it. Nothing ran as the role; fix the database
 * (an operator's task) and call again.
 */
export class ConfigurationError extends TodoChatDbError {
  readonly problems: string[];

  constructor(problems: string[], options: { cause?: unknown; message?: string } = {}) {
    super('CONFIGURATION', options.message ?? `the database is not configured for isolation: ${problems.join('; ')}`, options);
    this.problems = problems;
  }
}

/**
 * An invariant of the library itself broke (a query returned more rows than
 * its key allows, a row the schema's constraints should have refused): a bug
 * to report, never the caller's fault.
 */
export class InternalError extends TodoChatDbError {
  constructor(message: string) {
    super('INTERNAL', `internal error: ${message}`);
  }
}

/**
 * A database error aborted the transaction (PostgreSQL then refuses every
 * further statement until rollback). Thrown by the next query of the same
 * withUser callback, or at commit when the callback swallowed the error; the
 * first error is the cause. Run the whole withUser again to retry.
 */
export class TransactionAbortedError extends TodoChatDbError {
  constructor(cause: unknown) {
    // As retryable as the error that aborted it: a deadlock's, say, is.
    super('DATABASE', 'the transaction was aborted by an earlier database error; nothing of it will be committed', {
      cause,
      retryable: cause instanceof TodoChatDbError && cause.retryable,
    });
  }
}

/** A migration could not be applied, reverted or checked. */
export class MigrationError extends TodoChatDbError {
  readonly file: string | undefined;

  constructor(message: string, options: { cause?: unknown; file?: string } = {}) {
    super('MIGRATION', message, options);
    this.file = options.file;
  }
}

interface DriverErrorShape {
  code?: unknown;
  constraint?: unknown;
  message?: unknown;
}

function sqlStateOf(error: unknown): string | undefined {
  if (error instanceof TodoChatDbError) return error.sqlState;
  const code = (error as DriverErrorShape | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

const NODE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const DRIVER_CONNECTION_MESSAGES = [
  'Connection terminated',
  'Client has encountered a connection error',
  'timeout exceeded when trying to connect',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  // pg's own connect timeout (connectionTimeoutMillis): the server did not complete the login in time.
  'timeout expired',
];

/** True when the error means the connection (not the statement) failed, so the client must be discarded. */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  const shape = error as DriverErrorShape | null;
  const code = typeof shape?.code === 'string' ? shape.code : '';
  if (NODE_SOCKET_CODES.has(code)) return true;
  // 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now; 53300: too many connections.
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  const message = typeof shape?.message === 'string' ? shape.message : '';
  return DRIVER_CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/** The connection failed, by this error or by the error it wraps (a mapped error's driver cause): discard the client. */
export function brokeConnection(error: unknown): boolean {
  return isConnectionFailure(error) || isConnectionFailure((error as Error | null)?.cause);
}

/**
 * Maps a driver error to a TodoChatDbError. `entity` names what the statement
 * was about, for NotFoundError on a foreign-key violation. Messages never
 * carry parameter values.
 */
export function mapDatabaseError(error: unknown, context: { entity?: string; query?: string } = {}): TodoChatDbError {
  if (error instanceof TodoChatDbError) return error;
  const shape = error as DriverErrorShape | null;
  const sqlState = sqlStateOf(error);
  const constraint = typeof shape?.constraint === 'string' ? shape.constraint : undefined;
  const where = context.query ? ` (${context.query})` : '';
  if (sqlState !== undefined && (sqlState.startsWith('28') || sqlState === '3D000')) {
    // Wrong credentials, a login refused by pg_hba.conf, a database that does not exist: no retry can fix them.
    const problem = `the server refused the login (${sqlState}): ${String(shape?.message ?? error)}; check the connection string and the server's pg_hba.conf`;
    return new ConfigurationError([problem], { cause: error, message: `cannot connect${where}: ${problem}` });
  }
  if (isConnectionFailure(error)) {
    return new DatabaseUnavailableError(`database unavailable${where}: ${String(shape?.message ?? error)}`, { cause: error });
  }
  switch (sqlState) {
    case '55P03':
      return new TimeoutError('lock', `a lock wait reached the lock timeout${where}; nothing was committed`, { cause: error });
    case '57014':
      return new TimeoutError('statement', `a statement reached the statement timeout (or was cancelled)${where}; nothing was committed`, { cause: error });
    case '23505':
      return new ConflictError(`already exists${constraint ? ` (${constraint})` : ''}${where}`, { cause: error });
    case '23503':
      return new NotFoundError(context.entity ?? 'referenced row', undefined, { cause: error });
    case '23514':
    case '23502':
    case '22001':
    case '22003':
    case '22007':
    case '22008':
    case '22021':
    case '22P02':
    case '22P05':
    case '2202E':
    case '22023':
    case '22025':
    case '22030':
    case '22032':
    case '54001':
      return new ValidationError(
        `refused by the database${constraint ? ` (constraint ${constraint})` : ''}${where}`,
        [{ path: [], message: constraint ?? sqlState, code: sqlState }],
        { cause: error, ...(constraint ? { constraint } : {}) },
      );
    case '40001':
    case '40P01':
      return new SerializationFailureError(`transaction conflict, retry it${where}`, { cause: error });
    default:
      return new DatabaseError(`database error${sqlState ? ` ${sqlState}` : ''}${where}: ${String(shape?.message ?? error)}`, {
        cause: error,
      });
  }
}
