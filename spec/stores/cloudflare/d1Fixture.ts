// A Miniflare of the spec file's own, whose D1 binding (a proxy to workerd's real D1) the
// D1 specs run against from Node.
import { Miniflare } from 'miniflare';
import type { D1Handle } from '../../../lib/stores/cloudflare/d1.js';

/** One Miniflare and its D1 database `DB`. */
export interface D1Fixture {
  readonly db: D1Handle;
  /** Every row of a table, as text. */
  dump(table: string): Promise<string>;
  /** Deletes every row of a table. */
  empty(table: string): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Starts workerd through Miniflare with one D1 database.
 *
 * @returns The fixture; dispose it in `afterAll`.
 */
export async function startD1(): Promise<D1Fixture> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response("") } }',
    d1Databases: ['DB'],
  });
  const db = (await mf.getD1Database('DB')) as unknown as D1Handle;
  return {
    db,
    dump: async (table) => JSON.stringify((await db.prepare(`SELECT * FROM "${table}" ORDER BY token`).all()).results),
    empty: async (table) => {
      await db.prepare(`DELETE FROM "${table}"`).run();
    },
    dispose: () => mf.dispose(),
  };
}
