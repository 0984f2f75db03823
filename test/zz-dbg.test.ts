import { test } from 'node:test';
import { createTestDatabase } from './helpers/db.js';
test('dbg', async () => {
  const db = await createTestDatabase();
  const store = db.store();
  const [a] = await db.createUsers(1);
  const input = Object.assign(Object.create({ userId: 'x' }) as object, { title: 'inherited' });
  console.log('start');
  try { await store.withUser(a!, (tx) => tx.tasks.create(input as { title: string })); } catch (e) { console.log('caught', (e as Error).message); }
  console.log('end');
});
