/**
 * The security invariants of the schema, each a query of the live catalog that
 * returns its violations (an empty list means the invariant holds). Used by
 * test/security/catalog.test.ts on the migrated schema, and on deliberately
 * broken objects (in a rolled-back transaction) to prove each check can fail.
 */
import type pg from 'pg';

export interface Invariant {
  name: string;
  /** One line per violation, naming the object. */
  check(client: pg.ClientBase, appRole: string, schema?: string): Promise<string[]>;
}

type Client = pg.ClientBase;

const SYSTEM_SCHEMAS = `('pg_catalog', 'information_schema', 'pg_toast')`;

/** The one form a policy expression may take: the owner column equals the sub-selected current user. */
export const POLICY_EXPRESSION = /^\((\w+) = \( SELECT todo_chat\.current_user_id\(\) AS current_user_id\)\)$/;

/** The column of each table that holds the owning user's id. */
export async function ownerColumns(client: Client, schema = 'todo_chat'): Promise<Map<string, string>> {
  const { rows } = await client.query(
    `select c.relname, a.attname
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     left join pg_attribute a on a.attrelid = c.oid and a.attname = 'user_id' and not a.attisdropped
     where n.nspname = $1 and c.relkind in ('r', 'p')`,
    [schema],
  );
  // users.id is the user id itself; every other table carries user_id.
  return new Map(rows.map((r) => [r.relname as string, r.relname === 'users' ? 'id' : ((r.attname as string | null) ?? '(none)')]));
}

async function list(client: Client, sql: string, values: unknown[]): Promise<string[]> {
  const { rows } = await client.query({ text: sql, values, rowMode: 'array' });
  return rows.map((row: unknown[]) => row.map(String).join(' '));
}

export const INVARIANTS: Invariant[] = [
  {
    name: 'every table has row-level security enabled and forced, and a user id column',
    async check(client, _role, schema = 'todo_chat') {
      const flags = await list(
        client,
        `select c.relname, case when not c.relrowsecurity then 'rls not enabled' else 'rls not forced' end
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = $1 and c.relkind in ('r', 'p') and not (c.relrowsecurity and c.relforcerowsecurity)
         order by 1`,
        [schema],
      );
      const owners = await ownerColumns(client, schema);
      const noOwner = [...owners].filter(([, column]) => column === '(none)').map(([table]) => `${table} has no user_id column`);
      return [...flags, ...noOwner];
    },
  },
  {
    name: 'every table has exactly one permissive policy per command (select, insert, update, delete), to the app role only',
    async check(client, role, schema = 'todo_chat') {
      return list(
        client,
        `with tables as (
           select c.oid, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = $1 and c.relkind in ('r', 'p')
         ), commands(cmd) as (values ('r'), ('a'), ('w'), ('d'))
         select t.relname, 'command ' || k.cmd || ' has ' || count(p.oid) || ' policies'
         from tables t cross join commands k
         left join pg_policy p on p.polrelid = t.oid and p.polcmd = k.cmd
         group by t.relname, k.cmd having count(p.oid) <> 1
         union all
         select t.relname, p.polname || ': ' || case
             when p.polcmd = '*' then 'FOR ALL policy'
             when not p.polpermissive then 'restrictive'
             else 'applies to ' || coalesce((select string_agg(case r when 0 then 'public' else pg_get_userbyid(r) end, ',') from unnest(p.polroles) r), '?')
           end
         from tables t join pg_policy p on p.polrelid = t.oid
         where p.polcmd = '*' or not p.polpermissive
           or p.polroles <> array[(select oid from pg_roles where rolname = $2)]::oid[]
         order by 1, 2`,
        [schema, role],
      );
    },
  },
  {
    name: "every policy reads the user as `<owner column> = (select todo_chat.current_user_id())`, in using and with check as its command needs",
    async check(client, _role, schema = 'todo_chat') {
      const owners = await ownerColumns(client, schema);
      const { rows } = await client.query(
        'select tablename, policyname, cmd, qual, with_check from pg_policies where schemaname = $1 order by 1, 2',
        [schema],
      );
      const violations: string[] = [];
      for (const row of rows) {
        const needsUsing = row.cmd !== 'INSERT';
        const needsCheck = row.cmd === 'INSERT' || row.cmd === 'UPDATE';
        const expressions: [string, string | null, boolean][] = [
          ['using', row.qual, needsUsing],
          ['with check', row.with_check, needsCheck],
        ];
        for (const [clause, expression, needed] of expressions) {
          if (!needed) {
            if (expression !== null) violations.push(`${row.tablename}.${row.policyname}: unexpected ${clause} ${expression}`);
            continue;
          }
          const match = expression === null ? null : POLICY_EXPRESSION.exec(expression);
          if (!match) violations.push(`${row.tablename}.${row.policyname}: ${clause} is ${expression}`);
          else if (match[1] !== owners.get(row.tablename)) {
            violations.push(`${row.tablename}.${row.policyname}: filters ${match[1]}, not the owner column ${owners.get(row.tablename)}`);
          }
        }
      }
      return violations;
    },
  },
  {
    name: 'the app role cannot log in, is not superuser, has nobypassrls, no other power, no membership, and owns nothing',
    async check(client, role) {
      const attributes = await list(
        client,
        `select rolname, attribute from pg_roles r, lateral (values
           ('login', r.rolcanlogin), ('superuser', r.rolsuper), ('bypassrls', r.rolbypassrls),
           ('createrole', r.rolcreaterole), ('createdb', r.rolcreatedb), ('replication', r.rolreplication)) as a(attribute, granted)
         where r.rolname = $1 and a.granted`,
        [role],
      );
      const exists = await list(client, 'select 1 from pg_roles where rolname = $1', [role]);
      const memberships = await list(
        client,
        `select 'member of', pg_get_userbyid(m.roleid) from pg_auth_members m where m.member = (select oid from pg_roles where rolname = $1)`,
        [role],
      );
      // pg_shdepend records ownership ('o') of objects in every database of the cluster.
      const owned = await list(
        client,
        `select 'owns', d.classid::regclass::text, d.objid from pg_shdepend d
         where d.refclassid = 'pg_authid'::regclass and d.deptype = 'o'
           and d.refobjid = (select oid from pg_roles where rolname = $1)`,
        [role],
      );
      return [...(exists.length === 1 ? [] : [`role ${role} does not exist`]), ...attributes, ...memberships, ...owned];
    },
  },
  {
    name: 'no view lacks security_invoker',
    async check(client) {
      return list(
        client,
        `select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind in ('v', 'm') and n.nspname not in ${SYSTEM_SCHEMAS}
           and not coalesce(c.relkind = 'v' and exists (
             select from unnest(c.reloptions) o where lower(o) in ('security_invoker=true', 'security_invoker=on', 'security_invoker=1')), false)
         order by 1`,
        [],
      );
    },
  },
  {
    name: 'no security definer function lacks a pinned search_path',
    async check(client) {
      return list(
        client,
        `select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where p.prosecdef and n.nspname not in ${SYSTEM_SCHEMAS}
           and not exists (select from unnest(p.proconfig) c where c like 'search\\_path=%')
         order by 1`,
        [],
      );
    },
  },
  {
    name: 'every foreign key has an on delete action',
    async check(client, _role, schema = 'todo_chat') {
      return list(
        client,
        `select c.relname, k.conname from pg_constraint k join pg_class c on c.oid = k.conrelid
         join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = $1 and k.contype = 'f' and k.confdeltype = 'a' order by 1, 2`,
        [schema],
      );
    },
  },
  {
    name: 'every primary key, unique constraint, unique index and foreign key includes the user id (Citus co-location)',
    async check(client, _role, schema = 'todo_chat') {
      const owners = await ownerColumns(client, schema);
      const { rows: constraints } = await client.query(
        `select c.relname, k.conname, k.contype,
           array(select a.attname::text from unnest(k.conkey) x join pg_attribute a on a.attrelid = k.conrelid and a.attnum = x) as columns,
           fc.relname as ref_table,
           array(select a.attname::text from unnest(k.confkey) x join pg_attribute a on a.attrelid = k.confrelid and a.attnum = x) as ref_columns
         from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
         left join pg_class fc on fc.oid = k.confrelid
         where n.nspname = $1 and k.contype in ('p', 'u', 'f') order by 1, 2`,
        [schema],
      );
      const { rows: indexes } = await client.query(
        `select c.relname, i.relname as indexname,
           array(select a.attname::text from unnest(x.indkey::int2[]) k join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k) as columns
         from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class c on c.oid = x.indrelid
         join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = $1 and x.indisunique order by 1, 2`,
        [schema],
      );
      const violations: string[] = [];
      for (const k of constraints) {
        const owner = owners.get(k.relname);
        if (!owner || !(k.columns as string[]).includes(owner)) violations.push(`${k.relname}.${k.conname} (${k.columns}) lacks ${owner}`);
        if (k.contype === 'f') {
          const refOwner = owners.get(k.ref_table);
          // the referencing user id must point at the referenced row's user id, at the same position
          const at = (k.columns as string[]).indexOf(owner ?? '');
          if (!refOwner || (k.ref_columns as string[])[at] !== refOwner) {
            violations.push(`${k.relname}.${k.conname} does not match ${owner} to ${k.ref_table}.${refOwner}`);
          }
        }
      }
      for (const index of indexes) {
        const owner = owners.get(index.relname);
        if (!owner || !(index.columns as string[]).includes(owner)) violations.push(`unique index ${index.indexname} (${index.columns}) lacks ${owner}`);
      }
      return violations;
    },
  },
  {
    name: 'every column a policy filters leads some index of its table',
    async check(client, _role, schema = 'todo_chat') {
      const { rows: policies } = await client.query(
        'select distinct tablename, coalesce(qual, with_check) as expression from pg_policies where schemaname = $1 order by 1',
        [schema],
      );
      const violations: string[] = [];
      for (const policy of policies) {
        const column = POLICY_EXPRESSION.exec(policy.expression ?? '')?.[1];
        if (!column) {
          violations.push(`${policy.tablename}: cannot tell the filtered column of ${policy.expression}`);
          continue;
        }
        const { rows } = await client.query(
          `select 1 from pg_index x join pg_attribute a on a.attrelid = x.indrelid and a.attnum = x.indkey[0]
           where x.indrelid = format('%I.%I', $1::text, $2::text)::regclass and a.attname = $3`,
          [schema, policy.tablename, column],
        );
        if (rows.length === 0) violations.push(`${policy.tablename}.${column} leads no index`);
      }
      return violations;
    },
  },
  {
    name: 'the app role holds no table-level insert, update, truncate, references or trigger, and public holds nothing',
    async check(client, role, schema = 'todo_chat') {
      return list(
        client,
        `select c.relname, case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end, a.privilege_type
         from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
         where n.nspname = $1 and c.relkind in ('r', 'p', 'v', 'm', 'S')
           and ((a.grantee = (select oid from pg_roles where rolname = $2) and a.privilege_type not in ('SELECT', 'DELETE'))
             or a.grantee = 0)
         order by 1, 3`,
        [schema, role],
      );
    },
  },
  {
    name: 'the app role cannot write a user id column (users.id only by insert, which its policy pins to the current user)',
    async check(client, role, schema = 'todo_chat') {
      const owners = await ownerColumns(client, schema);
      const violations: string[] = [];
      for (const [table, column] of owners) {
        if (column === '(none)') continue; // reported by the first invariant
        for (const privilege of ['INSERT', 'UPDATE']) {
          if (table === 'users' && column === 'id' && privilege === 'INSERT') continue;
          const { rows } = await client.query('select has_column_privilege($1, format($2, $3::text, $4::text), $5, $6) as granted', [
            role,
            '%I.%I',
            schema,
            table,
            column,
            privilege,
          ]);
          if (rows[0]!.granted) violations.push(`${role} may ${privilege} ${table}.${column}`);
        }
      }
      return violations;
    },
  },
  {
    name: 'the app role reaches no table outside the app schema but for reading the migration bookkeeping, and cannot create objects in any schema',
    async check(client, role, schema = 'todo_chat') {
      const tables = await list(
        client,
        `select n.nspname || '.' || c.relname, p.privilege
         from pg_class c join pg_namespace n on n.oid = c.relnamespace,
           unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p(privilege)
         where c.relkind in ('r', 'p', 'v', 'm') and n.nspname not in ${SYSTEM_SCHEMAS} and n.nspname <> $1
           and n.nspname not like 'pg\\_temp\\_%' and n.nspname not like 'pg\\_toast\\_temp\\_%'
           and has_table_privilege($2, c.oid, p.privilege)
           and not (n.nspname = 'todo_chat_migrations' and c.relname = 'migrations' and p.privilege = 'SELECT')
         order by 1, 2`,
        [schema, role],
      );
      const schemas = await list(
        client,
        `select 'create in schema', n.nspname from pg_namespace n
         where n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema' and has_schema_privilege($1, n.oid, 'CREATE')`,
        [role],
      );
      return [...tables, ...schemas];
    },
  },
  {
    name: 'no database or role setting gives todo_chat.user_id a default (that would be a user for every transaction that set none)',
    async check(client) {
      return list(
        client,
        `select coalesce(d.datname, '*'), coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '*'), c
         from pg_db_role_setting s left join pg_database d on d.oid = s.setdatabase, unnest(s.setconfig) c
         where c like 'todo_chat.user\\_id=%'`,
        [],
      );
    },
  },
  {
    name: 'todo_chat.current_user_id() is a stable, security invoker sql function that reads only the transaction setting',
    async check(client) {
      const { rows } = await client.query(
        `select p.provolatile, p.prosecdef, l.lanname, p.prosrc, p.proconfig
         from pg_proc p join pg_language l on l.oid = p.prolang
         where p.oid = 'todo_chat.current_user_id()'::regprocedure`,
      );
      const fn = rows[0];
      if (!fn) return ['todo_chat.current_user_id() does not exist'];
      const violations: string[] = [];
      if (fn.provolatile !== 's') violations.push(`volatility ${fn.provolatile}, not stable`);
      if (fn.prosecdef) violations.push('security definer');
      if (fn.lanname !== 'sql') violations.push(`language ${fn.lanname}`);
      if (fn.prosrc.replace(/\s+/g, ' ').trim() !== "select nullif(pg_catalog.current_setting('todo_chat.user_id', true), '')::uuid") {
        violations.push(`body ${fn.prosrc.trim()}`);
      }
      return violations;
    },
  },
];
