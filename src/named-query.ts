/**
 * A query carries its own name. The name lives in the SQL
 * (`/* @name GetTask *\/`), as sqlc keeps `-- name: GetVenue :one` in the
 * statement; pgtyped exports that statement as `getTask`. nameQueries derives
 * `{ name, query }` from a generated module once, at import, so no call site
 * spells a name that could drift from sql/ (and the same stable name can
 * later name a prepared statement).
 */
import { PreparedQuery } from '@pgtyped/runtime';

export interface NamedQuery<Params, Row> {
  /** The statement's @name in sql/, e.g. "GetTask". */
  readonly name: string;
  readonly query: PreparedQuery<Params, Row>;
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
    if (value instanceof PreparedQuery) named[exportName] = Object.freeze({ name: queryNameOf(exportName), query: value });
  }
  return Object.freeze(named) as NamedQueries<Module>;
}
