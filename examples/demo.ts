/**
 * npm run demo: the main job. Migrates the database (DATABASE_URL, or the
 * local development database on the embedded PostgreSQL), then plays one turn
 * of an AI todo chatbot the way a backend would: the user asks, the assistant
 * calls a tool, the tool's result is stored with the call it answers, the
 * assistant replies; then it reads the history back and shows that another
 * user sees none of it.
 */
import crypto from 'node:crypto';
import { runMain } from '../tools/run-main.js';
import { withMigratedTarget } from '../tools/target.js';
import { NotFoundError, createStore } from '../src/index.js';

async function main(): Promise<void> {
  await withMigratedTarget(async (url) => {
    const queries: string[] = [];
    const store = createStore({ connectionString: url, onQuery: (event) => queries.push(event.query) });
    try {
      const alice = crypto.randomUUID();
      const mallory = crypto.randomUUID();

      const { conversation, task } = await store.withUser(alice, async (tx) => {
        await tx.users.ensure();
        const conversation = await tx.conversations.create({ title: 'Groceries' });
        // The model decided to call the add_task tool; the backend runs it...
        const task = await tx.tasks.create({ title: 'Buy oat milk', description: 'the barista one' });
        // ...and the whole turn is stored atomically, in order.
        await tx.messages.appendTurn(conversation.id, [
          { role: 'user', content: 'Remind me to buy oat milk' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'call_1', name: 'add_task', arguments: { title: 'Buy oat milk', description: 'the barista one' } }],
          },
          { role: 'tool', toolCallId: 'call_1', content: JSON.stringify({ ok: true, taskId: task.id }) },
          { role: 'assistant', content: 'Added "Buy oat milk" to your list.' },
        ]);
        return { conversation, task };
      });
      console.log(`\nalice ${alice}: conversation "${conversation.title}" with a tool-calling turn, task ${task.id}`);

      await store.withUser(alice, async (tx) => {
        const page = await tx.messages.history(conversation.id, { limit: 10 });
        for (const message of page.items) {
          const calls = message.toolCalls?.map((call) => `${call.name}(${JSON.stringify(call.arguments)})`).join(', ');
          const text = message.content || (calls ? `[calls ${calls}]` : '');
          console.log(`  #${message.position} ${message.role.padEnd(9)} ${message.toolCallId ? `[answers ${message.toolCallId}] ` : ''}${text}`);
        }
        const done = await tx.tasks.complete(task.id);
        console.log(`  task completed at ${done.completedAt?.toISOString()} (version ${done.version})`);
        const hits = await tx.messages.search('oat milk');
        console.log(`  search "oat milk": ${hits.length} message(s)`);
      });

      await store.withUser(mallory, async (tx) => {
        const tasks = await tx.tasks.list();
        const stolen = await tx.tasks.get(task.id).catch((error: unknown) => error);
        console.log(
          `\nmallory ${mallory}: sees ${tasks.items.length} task(s); reading alice's task -> ${
            stolen instanceof NotFoundError ? 'NotFoundError' : 'LEAK'
          }`,
        );
        if (!(stolen instanceof NotFoundError) || tasks.items.length !== 0) throw new Error('isolation failed');
      });

      const health = await store.health();
      console.log(`\nhealth: ok=${health.ok} server ${health.serverVersion}, round trip ${health.latencyMs?.toFixed(2)} ms`);
      console.log(`${queries.length} named queries ran: ${[...new Set(queries)].join(', ')}`);
    } finally {
      await store.close();
    }
  });
}

runMain('demo', main);
