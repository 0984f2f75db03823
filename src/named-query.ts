/**
 * A query carries its own name. The name lives in the SQL
 * (`/* @name GetTask *\/`), as sqlc keeps `-- name: GetVenue :one` in the
 * statement; pgtyped exports that statement as `getTask`. nameQueries derives
 * `{ name, query }` from a generated module once, at import, so no call site
 * spells a name that could drift from sql/ (and the same stable name can
 * later name a prepared statement). Its text is built once, here, rather
 * than by pgtyped on every call.
 */
import { ParameterTransform, PreparedQuery, processSQLQueryIR, type IDatabaseConnection } from '@pgtyped/runtime';

export interface NamedQuery<Params, Row> {
  /** The statement's @name in sql/, e.g. "GetTask". */
  readonly name: string;
  readonly query: PreparedQuery<Params, Row>;
  /**
   * The statement text and the parameter behind each $n, computed once: what
   * pgtyped's run() rebuilds on every call. Undefined for a statement that
   * needs pgtyped per call (a list parameter, a `!`/`?` column hint).
   */
  readonly compiled: { readonly text: string; readonly parameters: readonly string[] } | undefined;
}

/** The text and parameter order of a statement whose parameters are all scalars (pgtyped's own preprocessing, run once). */
function compile(query: PreparedQuery<unknown, unknown>): NamedQuery<unknown, unknown>['compiled'] {
  const ir = (query as unknown as { queryIR: Parameters<typeof processSQLQueryIR>[0] }).queryIR;
  const { query: text, mapping } = processSQLQueryIR(ir);
  if (/[!?]"/.test(text)) return undefined; // pgtyped renames such result columns per row
  const parameters: string[] = [];
  for (const parameter of mapping) {
    if (parameter.type !== ParameterTransform.Scalar) return undefined;
    parameters[parameter.assignedIndex - 1] = parameter.name;
  }
  if (parameters.length !== mapping.length || parameters.includes(undefined as never)) return undefined;
  return Object.freeze({ text, parameters: Object.freeze(parameters) });
}

/**
 * Runs a named query on a connection: its compiled text with the values in
 * parameter order when it has one (exactly what pgtyped would send:
 * test/tooling/named-queries.test.ts), otherwise through pgtyped.
 */
export async function runNamedQuery<P, R>(named: NamedQuery<P, R>, params: P, connection: IDatabaseConnection): Promise<R[]> {
  const compiled = named.compiled;
  if (compiled === undefined) return named.query.run(params, connection);
  const values = new Array<unknown>(compiled.parameters.length);
  for (let i = 0; i < values.length; i++) values[i] = (params as Record<string, unknown>)[compiled.parameters[i]!];
  return (await connection.query(compiled.text, values)).rows as R[];
}

/** The PreparedQuery exports of a generated module, each as a NamedQuery under the same key. */
export type NamedQueries<Module> = {
  readonly [Key in keyof Module as Module[Key] extends PreparedQuery<never, unknown> ? Key : never]: Module[Key] extends PreparedQuery<
    infer Params,
    infer Row
  >
    ? NamedQuery<Params, Row>
    : never;
};

/** pgtyped's rule, reversed: the export `getTask` compiles `@name GetTask`. */
export function queryNameOf(exportName: string): string {
  return exportName.charAt(0).toUpperCase() + exportName.slice(1);
}

export function nameQueries<Module extends object>(generated: Module): NamedQueries<Module> {
  const named: Record<string, NamedQuery<unknown, unknown>> = {};
  for (const [exportName, value] of Object.entries(generated)) {
    if (value instanceof PreparedQuery) named[exportName] = Object.freeze({ name: queryNameOf(exportName), query: value, compiled: compile(value) });
  }
  return Object.freeze(named) as NamedQueries<Module>;
}
