import mysql from 'mysql2/promise';
import { Context, MemorySessionStore, SessionManager, type SessionStore } from 'kit-session';
import { MysqlSessionStore } from 'kit-session/mysql';
import { FakeClock } from '../support/FakeClock.js';
import { cookiePair, request } from '../support/http.js';
import { describeWith, MYSQL_URL, uniqueName } from '../support/services.js';

// a request that still carries the old id after a renewal (served read-only within
// the grace). Its log-out must be saved and end the successor ("nothing of a stale session
// is saved but a log-out"), also when the log-out handler then writes to the fresh session
// it starts (a flash message "you are logged out", a new anonymous cart): that is still a
// log-out, exactly as on a session that is not stale.

interface Values {
  userId: string;
  flash: string;
  n: number;
}

async function staleLogoutEndsSuccessor(
  storeOf: () => SessionStore<Values>,
  clock: FakeClock,
  thenWrite: boolean | 'persistent',
): Promise<void> {
  // Two app servers over one store.
  const one = new SessionManager<Values>(storeOf(), { renewalGrace: 30_000 }, clock);
  const two = new SessionManager<Values>(storeOf(), { renewalGrace: 30_000 }, clock);
  const save = async (manager: SessionManager<Values>, context: Context): Promise<string | undefined> => {
    const headers = new Headers();
    await manager.injectSession(context, headers);
    return cookiePair(headers);
  };

  let context = await one.extractSession(Context.background, request());
  one.setValue(context, 'userId', 'ada');
  const oldCookie = (await save(one, context))!;
  // Log-in renews the id on server one.
  context = await one.extractSession(Context.background, request(oldCookie));
  one.renewToken(context);
  const newCookie = (await save(one, context))!;
  expect(newCookie).not.toBe(oldCookie);

  // A tab that still holds the old cookie logs out on server two, within the grace.
  context = await two.extractSession(Context.background, request(oldCookie));
  expect(two.getValue(context, 'userId')).toBe('ada');
  two.destroyValues(context);
  if (thenWrite === 'persistent') {
    two.setPersistent(context, false);
  } else if (thenWrite) {
    two.setValue(context, 'flash', 'You are logged out');
  }
  await save(two, context);

  // The log-out won: the successor is ended too.
  const after = await one.extractSession(Context.background, request(newCookie));
  expect(one.getValue(after, 'userId')).toBeUndefined();
}

describe('a log-out from the old cookie after a renewal (memory store)', () => {
  it('destroyValues alone ends the successor', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore<Values>({}, clock);
    await staleLogoutEndsSuccessor(() => store, clock, false);
  });

  it('destroyValues, then a value for the fresh session, still ends the successor', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore<Values>({}, clock);
    await staleLogoutEndsSuccessor(() => store, clock, true);
  });

  it('destroyValues, then setPersistent (which starts a new session too), still ends the successor', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore<Values>({}, clock);
    await staleLogoutEndsSuccessor(() => store, clock, 'persistent');
  });
});

describeWith('mysql', 'a log-out from the old cookie after a renewal (MySQL, two app servers)', () => {
  const table = uniqueName('kit_stale_logout');
  let pool: mysql.Pool;

  beforeAll(async () => {
    pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 4 });
    await new MysqlSessionStore(pool, { table }).createTable();
  });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS \`${table}\``);
    await pool.end();
  });

  it('destroyValues alone ends the successor', async () => {
    const clock = new FakeClock();
    await staleLogoutEndsSuccessor(() => new MysqlSessionStore<Values>(pool, { table }, clock), clock, false);
  });

  it('destroyValues, then a value for the fresh session, still ends the successor', async () => {
    const clock = new FakeClock();
    await staleLogoutEndsSuccessor(() => new MysqlSessionStore<Values>(pool, { table }, clock), clock, true);
  });
});
