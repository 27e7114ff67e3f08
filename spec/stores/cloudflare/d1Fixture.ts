// A Miniflare of the spec file's own, with one D1 database `DB` (workerd's real D1), and
// two ways for Node to reach it:
// - `binding`: Miniflare's own proxy of the binding (`getD1Database`), the object a test
//   gets from Miniflare's API. Each `prepare` and `bind` on it is a synchronous call into
//   workerd (about 20 ms each here), and Miniflare 4's synchronous channel fails an
//   assertion after some 15,000 of them, so long runs cannot use it;
// - `db`: a worker inside that workerd that runs the statements on `env.DB` and answers
//   with D1's own results, reached with one `dispatchFetch` per statement or batch (as the
//   store's own subrequests would be). Only the transport differs: each statement still
//   runs on workerd's D1, and a batch is still one `env.DB.batch`.
import { Miniflare } from 'miniflare';
import type { D1Answer, D1Handle, D1Statement } from 'kit-session/cloudflare';

/** One Miniflare and its D1 database `DB`. */
export interface D1Fixture {
  /** The database through the worker (fast; for long runs). */
  readonly db: D1Handle;
  /** The database through Miniflare's proxy of the binding. */
  readonly binding: D1Handle;
  /** How many statements and batches went through `db` (each one subrequest). */
  readonly calls: { statements: string[]; subrequests: number };
  /** Every row of a table, as text. */
  dump(table: string): Promise<string>;
  /** Deletes every row of a table. */
  empty(table: string): Promise<void>;
  dispose(): Promise<void>;
}

/** The worker that runs statements sent to it on `env.DB`. */
const WORKER = `
export default {
  async fetch(request, env) {
    const { mode, statements } = await request.json();
    try {
      const prepared = statements.map((s) => env.DB.prepare(s.sql).bind(...s.params));
      let result;
      if (mode === 'batch') result = await env.DB.batch(prepared);
      else if (mode === 'first') result = await prepared[0].first();
      else if (mode === 'all') result = await prepared[0].all();
      else result = await prepared[0].run();
      return Response.json({ ok: true, result });
    } catch (error) {
      return Response.json({ ok: false, name: error.name, message: error.message });
    }
  },
};
`;

type Mode = 'first' | 'all' | 'run' | 'batch';
type Send = (mode: Mode, statements: readonly BridgedStatement[]) => Promise<unknown>;

/** A statement prepared on the Node side and run in the worker. */
class BridgedStatement implements D1Statement {
  constructor(
    readonly send: Send,
    readonly sql: string,
    readonly params: readonly unknown[] = [],
  ) {}

  bind(...values: unknown[]): D1Statement {
    return new BridgedStatement(this.send, this.sql, values);
  }

  first<R>(): Promise<R | null> {
    return this.send('first', [this]) as Promise<R | null>;
  }

  all<R>(): Promise<D1Answer<R>> {
    return this.send('all', [this]) as Promise<D1Answer<R>>;
  }

  run<R>(): Promise<D1Answer<R>> {
    return this.send('run', [this]) as Promise<D1Answer<R>>;
  }
}

/**
 * Starts workerd through Miniflare with one D1 database.
 *
 * @returns The fixture; dispose it in `afterAll`.
 */
export async function startD1(): Promise<D1Fixture> {
  const mf = new Miniflare({ modules: true, script: WORKER, d1Databases: ['DB'], compatibilityDate: '2026-04-01' });
  const binding = (await mf.getD1Database('DB')) as unknown as D1Handle;
  const calls = { statements: [] as string[], subrequests: 0 };
  const send: Send = async (mode, statements) => {
    calls.subrequests += 1;
    calls.statements.push(...statements.map((s) => s.sql));
    const response = await mf.dispatchFetch('http://d1.test/', {
      method: 'POST',
      body: JSON.stringify({ mode, statements: statements.map((s) => ({ sql: s.sql, params: s.params })) }),
    });
    const answer = (await response.json()) as { ok: boolean; result?: unknown; name?: string; message?: string };
    if (!answer.ok) {
      const error = new Error(answer.message);
      error.name = answer.name ?? 'Error';
      throw error;
    }
    return answer.result;
  };
  const db: D1Handle = {
    prepare: (sql) => new BridgedStatement(send, sql),
    batch: <R>(statements: D1Statement[]) => send('batch', statements as BridgedStatement[]) as Promise<D1Answer<R>[]>,
  };
  return {
    db,
    binding,
    calls,
    dump: async (table) => JSON.stringify((await db.prepare(`SELECT * FROM "${table}" ORDER BY token`).all()).results),
    empty: async (table) => {
      await db.prepare(`DELETE FROM "${table}"`).run();
    },
    dispose: () => mf.dispose(),
  };
}
