import { parseSetCookie } from 'cookie';
import {
  Context,
  MemorySessionStore,
  SessionManager,
  SessionStoreError,
  type AdoptedSession,
  type RequestLike,
  type SessionAdopter,
  type SessionEvent,
  type SessionManagerOptions,
} from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { request } from '../support/http.js';

interface AppSession {
  userId: string;
  cart: string[];
  visits: number;
}

const OLD_COOKIE = 'legacy.sid';
const EXPIRE_OLD = `${OLD_COOKIE}=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`;

/**
 * An old library's sessions, kept in a map by their old id: what an adopter reads. It
 * records what the manager asked of it, and when.
 */
class LegacySessions implements SessionAdopter<AppSession> {
  readonly source = 'legacy';
  readonly cookieNames = [OLD_COOKIE];
  readonly records = new Map<string, Partial<AppSession>>();
  readonly asked: string[] = [];
  readonly retired: { sid: string; ended: boolean; storedAtRetire: number }[] = [];
  failAdopt: Error | undefined;
  failRetire: Error | undefined;

  constructor(readonly store: MemorySessionStore<AppSession>) {}

  adopt(request: RequestLike): AdoptedSession<AppSession> | undefined | Promise<AdoptedSession<AppSession> | undefined> {
    const sid = /(?:^|;\s*)legacy\.sid=([^;]*)/.exec(request.headers.get('cookie') ?? '')?.[1];
    if (sid === undefined) {
      return undefined;
    }
    this.asked.push(sid);
    if (this.failAdopt !== undefined) {
      return Promise.reject(this.failAdopt);
    }
    const values = this.records.get(sid);
    if (values === undefined) {
      return undefined;
    }
    return {
      values,
      expireCookies: [EXPIRE_OLD],
      retire: async (ended) => {
        if (this.failRetire !== undefined) {
          throw this.failRetire;
        }
        this.retired.push({ sid, ended, storedAtRetire: this.store.size });
        this.records.delete(sid);
      },
    };
  }
}

function setup(options: SessionManagerOptions = {}) {
  const clock = new FakeClock();
  const store = new MemorySessionStore<AppSession>({}, clock);
  const legacy = new LegacySessions(store);
  const events: SessionEvent[] = [];
  const manager = new SessionManager<AppSession>(
    store,
    { cookie: { name: 'session', secure: false }, adopt: [legacy], onEvent: (event) => events.push(event), ...options },
    clock,
  );
  return { clock, store, legacy, manager, events };
}

async function visit(manager: SessionManager<AppSession>, cookie: string | undefined, act: (context: Context) => void = () => {}) {
  const context = await manager.extractSession(Context.background, request(cookie));
  act(context);
  const headers = new Headers();
  await manager.injectSession(context, headers);
  const lines = headers.getSetCookie().map((line) => ({ line, ...parseSetCookie(line) }));
  return { context, lines, session: manager.session(context) };
}

describe('SessionManager adopt option', () => {
  it('gives a request with only an old cookie a new session with the old values, saved with its own cookie, the old one expired', async () => {
    const { legacy, manager, store } = setup();
    legacy.records.set('old-1', { userId: 'u1', cart: ['apple'] });
    const { lines, session } = await visit(manager, `${OLD_COOKIE}=old-1`);
    expect(session.values).toEqual({ userId: 'u1', cart: ['apple'] });
    expect(session.id).not.toBe('old-1');
    expect(session.id).toHaveLength(43);
    expect(lines.map(({ name }) => name)).toEqual(['session', OLD_COOKIE]);
    expect(lines[1]!.line).toBe(EXPIRE_OLD);
    expect(store.size).toBe(1);
    expect((await store.getSession(session.id))?.values).toEqual({ userId: 'u1', cart: ['apple'] });
    // Retired once, after the new session was in the store.
    expect(legacy.retired).toEqual([{ sid: 'old-1', ended: false, storedAtRetire: 1 }]);

    const next = await visit(manager, `session=${lines[0]!.value}`);
    expect(next.session.values).toEqual({ userId: 'u1', cart: ['apple'] });
    expect(next.lines).toEqual([]);
    expect(legacy.asked).toEqual(['old-1']);
  });

  it('saves the adopted session even when the handler never touches it, and even with no values carried', async () => {
    const { legacy, manager, store } = setup();
    legacy.records.set('empty', {});
    const { lines, session } = await visit(manager, `${OLD_COOKIE}=empty`);
    expect(session.status).toBe('unmodified');
    expect(lines.map(({ name }) => name)).toEqual(['session', OLD_COOKIE]);
    expect(store.size).toBe(1);
  });

  it('never asks the adopters when the request carries a token of its own, even one that loads nothing', async () => {
    const { legacy, manager } = setup();
    legacy.records.set('old-1', { userId: 'u1' });
    const { session, lines } = await visit(manager, `session=${'A'.repeat(43)}; ${OLD_COOKIE}=old-1`);
    expect(session.status).toBe('new');
    expect(session.values).toEqual({});
    expect(lines).toEqual([]);
    expect(legacy.asked).toEqual([]);
  });

  it('leaves a request alone when the adopter finds nothing: a fresh session, no cookie, the old cookie kept', async () => {
    const { legacy, manager } = setup();
    const { session, lines } = await visit(manager, `${OLD_COOKIE}=unknown`);
    expect(session.status).toBe('new');
    expect(lines).toEqual([]);
    expect(legacy.asked).toEqual(['unknown']);
  });

  it('asks the adopters in order and takes the first answer', async () => {
    const clock = new FakeClock();
    const store = new MemorySessionStore<AppSession>({}, clock);
    const calls: string[] = [];
    const adopter = (source: string, answer: Partial<AppSession> | undefined): SessionAdopter<AppSession> => ({
      source,
      adopt: (_request, now) => {
        calls.push(`${source}@${now}`);
        return answer === undefined ? undefined : { values: answer, expireCookies: [`${source}=; Max-Age=0`] };
      },
    });
    const manager = new SessionManager<AppSession>(
      store,
      { cookie: { name: 'session', secure: false }, adopt: [adopter('none', undefined), adopter('first', { userId: 'a' }), adopter('second', { userId: 'b' })] },
      clock,
    );
    const { session, lines } = await visit(manager, undefined);
    expect(session.values).toEqual({ userId: 'a' });
    expect(calls).toEqual([`none@${clock.now()}`, `first@${clock.now()}`]);
    expect(lines.map(({ name }) => name)).toContain('first');
  });

  it('fails the request with SessionStoreError when an adopter fails, rather than logging the user out', async () => {
    const { legacy, manager } = setup();
    legacy.failAdopt = new Error('connect ECONNREFUSED');
    await expect(manager.extractSession(Context.background, request(`${OLD_COOKIE}=old-1`))).rejects.toMatchObject({
      code: 'ERR_SESSION_STORE',
    });
    await expect(manager.extractSession(Context.background, request(`${OLD_COOKIE}=old-1`))).rejects.toBeInstanceOf(SessionStoreError);
  });

  it('when the old record cannot be retired, fails the save before any cookie, and the next request adopts again', async () => {
    const { legacy, manager } = setup();
    legacy.records.set('old-1', { userId: 'u1' });
    legacy.failRetire = new Error('timeout');
    const context = await manager.extractSession(Context.background, request(`${OLD_COOKIE}=old-1`));
    const headers = new Headers();
    await expect(manager.injectSession(context, headers)).rejects.toBeInstanceOf(SessionStoreError);
    expect(headers.getSetCookie()).toEqual([]);

    legacy.failRetire = undefined;
    const { session, lines } = await visit(manager, `${OLD_COOKIE}=old-1`);
    expect(session.values).toEqual({ userId: 'u1' });
    expect(lines.map(({ name }) => name)).toEqual(['session', OLD_COOKIE]);
    expect(legacy.retired).toHaveLength(1);
  });

  it('a log-out in the adopting request ends both: no new session, the old cookie expired, the old record retired as ended', async () => {
    const { legacy, manager, store } = setup();
    legacy.records.set('old-1', { userId: 'u1' });
    const { lines } = await visit(manager, `${OLD_COOKIE}=old-1`, (context) => manager.destroyValues(context));
    expect(store.size).toBe(0);
    expect(lines.map(({ line }) => line)).toEqual([EXPIRE_OLD]);
    expect(legacy.retired).toEqual([{ sid: 'old-1', ended: true, storedAtRetire: 0 }]);
  });

  it('a log-out followed by new values in the same request retires the old session as ended', async () => {
    const { legacy, manager, store } = setup();
    legacy.records.set('old-1', { userId: 'u1' });
    const { session, lines } = await visit(manager, `${OLD_COOKIE}=old-1`, (context) => {
      manager.destroyValues(context);
      manager.setValue(context, 'visits', 1);
    });
    expect(session.values).toEqual({ visits: 1 });
    expect(store.size).toBe(1);
    expect(lines.map(({ name }) => name)).toEqual(['session', OLD_COOKIE]);
    expect(legacy.retired).toEqual([{ sid: 'old-1', ended: true, storedAtRetire: 1 }]);
  });

  it('two requests of one browser racing with the old cookie are both adopted: neither is anonymous', async () => {
    const { legacy, manager, store } = setup();
    legacy.records.set('old-1', { userId: 'u1' });
    // Both loaded before either saves (the adopter here deletes the record when it retires it).
    const [first, second] = await Promise.all([
      manager.extractSession(Context.background, request(`${OLD_COOKIE}=old-1`)),
      manager.extractSession(Context.background, request(`${OLD_COOKIE}=old-1`)),
    ]);
    for (const context of [first, second]) {
      expect(manager.session(context).values).toEqual({ userId: 'u1' });
      await manager.injectSession(context, new Headers());
    }
    expect(manager.session(first).id).not.toBe(manager.session(second).id);
    expect(store.size).toBe(2);
  });

  it('reports the new session as created, for the reason adopted, named by its handle only', async () => {
    const { legacy, manager, events } = setup({ ownerKey: 'userId' });
    legacy.records.set('old-1', { userId: 'u1' });
    await visit(manager, `${OLD_COOKIE}=old-1`);
    expect(events).toEqual([expect.objectContaining({ type: 'created', reason: 'adopted', owner: 'u1' })]);
    expect(JSON.stringify(events)).not.toContain('old-1');
  });

  it('indexes the adopted session under its owner: it is listed with the others', async () => {
    const { legacy, manager } = setup({ ownerKey: 'userId' });
    legacy.records.set('old-1', { userId: 'u1' });
    legacy.records.set('old-2', { userId: 'u1' });
    const first = await visit(manager, `${OLD_COOKIE}=old-1`);
    await visit(manager, `${OLD_COOKIE}=old-2`);
    const listed = await manager.listOwnerSessions('u1', first.context);
    expect(listed).toHaveLength(2);
    expect(listed.filter(({ current }) => current)).toHaveLength(1);
  });

  it('leaves out a carried-over value no store could keep, and adopts the rest: an old session never fails its requests', async () => {
    const { legacy, manager, store } = setup();
    legacy.records.set('bad', { userId: 'u1', visits: 10n as unknown as number, cart: ['nul\u0000'] });
    const { session, lines } = await visit(manager, `${OLD_COOKIE}=bad`);
    expect(session.values).toEqual({ userId: 'u1' });
    expect(lines.map(({ name }) => name)).toEqual(['session', OLD_COOKIE]);
    expect((await store.getSession(session.id))?.values).toEqual({ userId: 'u1' });
  });

  describe('options', () => {
    const store = new MemorySessionStore<AppSession>();

    it.each([
      ['an object without adopt', { source: 'x' }],
      ['an adopter without source', { adopt: () => undefined }],
      ['a list holding a non-adopter', [{ source: 'x', adopt: () => undefined }, 42]],
      ['a string', 'express-session'],
    ])('refuses %s with a TypeError', (_what, adopt) => {
      expect(() => new SessionManager(store, { adopt: adopt as never })).toThrow(TypeError);
    });

    it("refuses an adopter whose cookie has the manager's own cookie name", () => {
      const adopter: SessionAdopter = { source: 'old', cookieNames: ['session'], adopt: () => undefined };
      expect(() => new SessionManager(store, { cookie: { name: 'session' }, adopt: adopter })).toThrow(TypeError);
      expect(() => new SessionManager(store, { cookie: { name: 'other' }, adopt: adopter })).not.toThrow();
    });
  });
});
