/**
 * npm run seed: fills the local development database (or DATABASE_URL) with a
 * few users, their tasks, and conversations in which the assistant called
 * tools, all through the public API (createStore / withUser), as a backend
 * would. Migrates up first. Idempotent: the users have fixed ids, and a user
 * who already owns tasks or conversations is left alone, so running it again
 * changes nothing.
 */
import { runMain } from './run-main.js';
import { withMigratedTarget } from './target.js';
import { createStore, type NewMessage, type Transaction } from '../src/index.js';

interface SeedTask {
  title: string;
  description?: string;
  completed?: boolean;
}

interface SeedUser {
  id: string;
  name: string;
  tasks: SeedTask[];
  /** Conversations: a title, whether archived, and the turns the user typed, replayed through a scripted agent. */
  conversations: { title: string | null; archived?: boolean; turns: Turn[] }[];
}

/** One exchange: what the user says, what the agent does about it, what it answers. */
interface Turn {
  user: string;
  actions?: ({ tool: 'add_task'; title: string; description?: string } | { tool: 'complete_task'; title: string } | { tool: 'list_tasks'; completed?: boolean })[];
  answer: string;
}

const USERS: SeedUser[] = [
  {
    id: '5eed0000-0000-4000-8000-000000000001',
    name: 'ada',
    tasks: [
      { title: 'Buy groceries', description: 'milk, eggs, coffee, oranges' },
      { title: 'Book the dentist', completed: true },
      { title: 'File the tax return', description: 'deadline end of the month; receipts are in the blue folder' },
      { title: 'Water the plants' },
      { title: 'Renew passport', completed: true },
    ],
    conversations: [
      {
        title: 'Weekly planning',
        turns: [
          {
            user: 'What is still open on my list?',
            actions: [{ tool: 'list_tasks', completed: false }],
            answer: 'You have three open tasks: buy groceries, file the tax return and water the plants.',
          },
          {
            user: 'Add "Call mom on Sunday" and mark the plants as done.',
            actions: [
              { tool: 'add_task', title: 'Call mom on Sunday' },
              { tool: 'complete_task', title: 'Water the plants' },
            ],
            answer: 'Added "Call mom on Sunday" and marked "Water the plants" as done.',
          },
        ],
      },
      {
        title: 'Trip to Lisbon',
        archived: true,
        turns: [
          {
            user: 'Remind me to book the flights to Lisbon.',
            actions: [{ tool: 'add_task', title: 'Book flights to Lisbon', description: 'window seat, morning flight' }],
            answer: 'Done: "Book flights to Lisbon" is on your list.',
          },
          { user: 'Thanks!', answer: 'Have a great trip.' },
        ],
      },
    ],
  },
  {
    id: '5eed0000-0000-4000-8000-000000000002',
    name: 'grace',
    tasks: [
      { title: 'Review the quarterly report' },
      { title: 'Fix the bike tyre', completed: true },
    ],
    conversations: [
      {
        title: null,
        turns: [
          {
            user: 'I need to prepare the team offsite.',
            actions: [
              { tool: 'add_task', title: 'Book a venue for the offsite' },
              { tool: 'add_task', title: 'Send the offsite agenda', description: 'one week before' },
            ],
            answer: 'I added two tasks: book a venue and send the agenda.',
          },
        ],
      },
    ],
  },
  {
    id: '5eed0000-0000-4000-8000-000000000003',
    name: 'linus',
    tasks: [],
    conversations: [
      {
        title: 'First steps',
        turns: [{ user: 'Hello! What can you do?', answer: 'I can keep your todo list: add, list and complete tasks.' }],
      },
    ],
  },
];

const SYSTEM_PROMPT = 'You are a helpful assistant that manages the user\'s todo list with the tools add_task, complete_task and list_tasks.';

/** Plays one turn the way an agent would: run each tool for real, log the calls and their results, then answer. */
async function playTurn(tx: Transaction, conversationId: string, turn: Turn, callNumber: { next: number }): Promise<number> {
  const messages: NewMessage[] = [{ role: 'user', content: turn.user }];
  if (turn.actions && turn.actions.length > 0) {
    const calls = turn.actions.map((action) => {
      const { tool, ...args } = action;
      return { id: `call_seed_${callNumber.next++}`, name: tool, arguments: args };
    });
    messages.push({ role: 'assistant', content: '', toolCalls: calls });
    for (const [index, action] of turn.actions.entries()) {
      let result: unknown;
      if (action.tool === 'add_task') {
        const task = await tx.tasks.create({ title: action.title, ...(action.description ? { description: action.description } : {}) });
        result = { id: task.id, title: task.title };
      } else if (action.tool === 'complete_task') {
        const open = await tx.tasks.list({ completed: false, limit: 200 });
        const task = open.items.find((t) => t.title === action.title);
        result = task ? { id: (await tx.tasks.complete(task.id)).id, completed: true } : { error: 'no such open task' };
      } else {
        const page = await tx.tasks.list({ ...(action.completed === undefined ? {} : { completed: action.completed }), limit: 200 });
        result = page.items.map((t) => ({ id: t.id, title: t.title, completed: t.completed }));
      }
      messages.push({ role: 'tool', toolCallId: calls[index]!.id, content: JSON.stringify(result) });
    }
  }
  messages.push({ role: 'assistant', content: turn.answer });
  await tx.messages.appendTurn(conversationId, messages);
  return messages.length;
}

async function main(): Promise<void> {
  await withMigratedTarget(async (url) => {
    const store = createStore({ connectionString: url, maxConnections: 2 });
    try {
      let seeded = 0;
      for (const user of USERS) {
        const outcome = await store.withUser(user.id, async (tx) => {
          await tx.users.ensure();
          const tasks = await tx.tasks.list({ limit: 1 });
          const conversations = await tx.conversations.list({ limit: 1 });
          if (tasks.items.length > 0 || conversations.items.length > 0) return null;
          let messageCount = 0;
          for (const task of user.tasks) await tx.tasks.create(task);
          const callNumber = { next: 1 };
          for (const conversation of user.conversations) {
            const created = await tx.conversations.create({ title: conversation.title });
            await tx.messages.append(created.id, { role: 'system', content: SYSTEM_PROMPT });
            messageCount++;
            for (const turn of conversation.turns) messageCount += await playTurn(tx, created.id, turn, callNumber);
            if (conversation.archived) await tx.conversations.archive(created.id);
          }
          const exported = await tx.users.export();
          return { tasks: exported.tasks.length, conversations: exported.conversations.length, messages: messageCount };
        });
        if (outcome === null) {
          console.log(`user ${user.name} (${user.id}): already has data, left as it is`);
        } else {
          seeded++;
          console.log(
            `user ${user.name} (${user.id}): seeded ${outcome.tasks} tasks, ${outcome.conversations} conversations, ${outcome.messages} messages`,
          );
        }
      }
      console.log(seeded === 0 ? 'nothing to seed: every seed user already has data' : `seeded ${seeded} of ${USERS.length} users`);
    } finally {
      await store.close();
    }
  });
}

runMain('seed', main);
