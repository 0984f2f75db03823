/**
 * The check a store makes of its app role before the first transaction runs
 * as it: row-level security only isolates users when the role requests
 * switch to is bound by it. One statement, run as the pool's login role
 * outside any transaction of a user; every problem comes back with its fix.
 */
import type pg from 'pg';

/** The schema whose tables must all have row-level security enabled and forced. */
export const APP_SCHEMA = 'todo_chat';

interface RoleFacts {
  found: boolean;
  can_login: boolean;
  superuser: boolean;
  bypass_rls: boolean;
  /** Roles the app role is a member of (directly or not) that are superusers or bypass row-level security. */
  privileged_memberships: string[];
  /** Objects the app role, or a role it is a member of, owns (up to 10, described). */
  owned: string[];
  schema_exists: boolean;
  /** Tables of the schema without row-level security enabled and forced, with which is missing. */
  unprotected_tables: string[];
}

/*
 * Ownership is read from pg_shdepend, which records the owner of every object
 * of every database of the cluster (objects of other databases cannot be
 * described from here, so they are named by their database).
 */
const ROLE_FACTS = `
with recursive app_role as (
  select oid, rolcanlogin, rolsuper, rolbypassrls from pg_catalog.pg_roles where rolname = $1
), member_of(oid) as (
  select oid from app_role
  union
  select m.roleid from pg_catalog.pg_auth_members m join member_of s on m.member = s.oid
)
select exists (select from app_role) as found,
  coalesce((select rolcanlogin from app_role), false) as can_login,
  coalesce((select rolsuper from app_role), false) as superuser,
  coalesce((select rolbypassrls from app_role), false) as bypass_rls,
  array(
    select r.rolname::text from member_of s join pg_catalog.pg_roles r on r.oid = s.oid
    where s.oid not in (select oid from app_role) and (r.rolsuper or r.rolbypassrls)
    order by 1
  ) as privileged_memberships,
  array(
    select case
        when d.dbid in (0, (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database()))
          then pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
        else 'an object of database ' || coalesce((select datname::text from pg_catalog.pg_database where oid = d.dbid), d.dbid::text)
      end || ', owned by ' || pg_catalog.pg_get_userbyid(d.refobjid)
    from pg_catalog.pg_shdepend d
    where d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass and d.deptype = 'o' and d.refobjid in (select oid from member_of)
    order by 1
    limit 10
  ) as owned,
  pg_catalog.to_regnamespace($2) is not null as schema_exists,
  array(
    select c.relname || case when not c.relrowsecurity then ' (not enabled)' else ' (not forced)' end
    from pg_catalog.pg_class c
    where c.relnamespace = pg_catalog.to_regnamespace($2) and c.relkind in ('r', 'p') and not (c.relrowsecurity and c.relforcerowsecurity)
    order by 1
  ) as unprotected_tables`;

/** What is wrong with appRole as the role requests run as, each with how to fix it; empty when nothing is. */
export async function appRoleProblems(client: pg.ClientBase, appRole: string): Promise<string[]> {
  const { rows } = await client.query<RoleFacts>(ROLE_FACTS, [appRole, APP_SCHEMA]);
  const facts = rows[0]!;
  const role = `the app role ${appRole}`;
  const problems: string[] = [];
  if (!facts.found) {
    problems.push(`${role} does not exist: run the migrations (npx todo-chat-db migrate), which create todo_chat_app, or create the role as docs/deploy.md shows`);
  } else {
    if (facts.superuser) problems.push(`${role} is a superuser, which row-level security never applies to: alter role ${appRole} nosuperuser`);
    if (facts.bypass_rls) problems.push(`${role} bypasses row-level security: alter role ${appRole} nobypassrls`);
    if (facts.can_login) {
      problems.push(`${role} can log in: alter role ${appRole} nologin (the application logs in as another role that is granted ${appRole}, docs/deploy.md)`);
    }
    for (const member of facts.privileged_memberships) {
      problems.push(`${role} is a member of ${member}, a superuser or a role that bypasses row-level security: revoke ${member} from ${appRole}`);
    }
    if (facts.owned.length > 0) {
      problems.push(
        `${role}, or a role it is a member of, owns objects (${facts.owned.join('; ')}): an owner may change the tables and their policies; ` +
          `the schema belongs to the role that migrates (docs/deploy.md): reassign owned by that role to the migrating role, or revoke the membership`,
      );
    }
  }
  if (!facts.schema_exists) problems.push(`the schema ${APP_SCHEMA} does not exist: run the migrations (npx todo-chat-db migrate)`);
  for (const table of facts.unprotected_tables) {
    const name = table.split(' ')[0];
    problems.push(
      `row-level security of table ${APP_SCHEMA}.${table}, which the migrations enable and force (was it changed by hand?): ` +
        `alter table ${APP_SCHEMA}.${name} enable row level security, force row level security`,
    );
  }
  return problems;
}
