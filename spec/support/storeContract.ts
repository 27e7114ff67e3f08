import {
  SessionLimitError,
  type SessionRecord,
  type SessionStore,
} from 'kit-session';
import {
  isOwnerIndexedStore,
  isOwnerListingStore,
  isPatchableStore,
  isRenewableStore,
  type OwnerListingSessionStore,
  type RenewableSessionStore,
  hasTokenLength,
} from 'kit-session/store';
import { createHash, randomBytes } from 'node:crypto';
import { FakeClock } from './FakeClock.js';

/** What the contract suite needs to know about the store under test. */
export interface StoreFixture {
  /** The store, built with the fixture's clock. */
  readonly store: SessionStore<ContractValues>;
  /** The clock the store (and every layer of it) reads. */
  readonly clock: FakeClock;
  /**
   * Whether the store keeps records on a server, so `deleteSession` revokes and
   * `getSession` gives back the id it was saved under.
   */
  readonly serverSide: boolean;
  /**
   * Whether a server-side store offers only the three required methods (and maybe
   * `tokenLength`): the ability tests then expect no ability. Without it, a server-side
   * store is expected to patch and keep an owner index, as every shipped one does.
   */
  readonly requiredOnly?: boolean;
  /**
   * Everything the store's backend holds, as text, when it can be read (a Redis dump,
   * table rows): checked to hold no plaintext value when the store encrypts values.
   */
  readonly dump?: () => Promise<string>;
  /** Whether values are encrypted at rest. */
  readonly encryptsValues?: boolean;
  /** Clean up after the fixture. */
  readonly close?: () => Promise<void>;
}

/** The value shape the contract suite stores. */
export interface ContractValues {
  [key: string]: unknown;
}

const HOUR = 60 * 60 * 1000;

function id(): string {
  return randomBytes(32).toString('base64url');
}

function record(clock: FakeClock, values: ContractValues, ttl = HOUR, meta?: string): SessionRecord<ContractValues> {
  return { values, expireTime: clock.now() + ttl, deadline: clock.now() + 2 * ttl, ...(meta === undefined ? {} : { meta }) };
}

/** A session's public handle, as the stores compute it: the SHA-256 of its id, base64url. */
export function handleOf(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('base64url');
}

/**
 * Registers the `SessionStore` contract tests for one store. Every store, decorated
 * ones included, runs this same suite.
 *
 * @param name - What the describe block is called.
 * @param makeFixture - Builds a fresh fixture for each test.
 */
export function describeStoreContract(name: string, makeFixture: () => Promise<StoreFixture> | StoreFixture): void {
  describe(`${name} (SessionStore contract)`, () => {
    let fixture: StoreFixture;
    let store: SessionStore<ContractValues>;
    let clock: FakeClock;

    beforeEach(async () => {
      fixture = await makeFixture();
      ({ store, clock } = fixture);
    });

    afterEach(async () => {
      await fixture.close?.();
    });

    describe('.getSession', () => {
      it('when the token is unknown, resolves to undefined', async () => {
        expect(await store.getSession(id())).toBeUndefined();
      });

      it.each([
        ['empty', ''],
        ['not base64url', '%%%not a token;;'],
        ['unicode', 'sessión-ü-💥'],
        ['very long', 'A'.repeat(100_000)],
        ['a number-like string', '12345'],
      ])('when the token is %s, resolves to undefined', async (_label, token) => {
        expect(await store.getSession(token)).toBeUndefined();
      });

      it('gives back what was saved: values, expiry and deadline', async () => {
        const values = { user: 'ada', visits: 3, nested: { list: [1, 'two', null], ok: true }, text: 'héllo 🌍' };
        const saved = record(clock, values);
        const token = await store.setSession(id(), saved);
        const loaded = await store.getSession(token);
        expect(loaded?.values).toEqual(values);
        expect(loaded?.expireTime).toBe(saved.expireTime);
        expect(loaded?.deadline).toBe(saved.deadline);
      });

      // A store that can tell may give an expired record back as it is (the manager
      // reports it as the `expired` event); it must never give it as live.
      function ended(loaded: { expireTime: number; deadline: number } | undefined): boolean {
        return loaded === undefined || loaded.expireTime <= clock.now() || loaded.deadline <= clock.now();
      }

      it('when the session expired (moved past with the clock), resolves to undefined or to the expired record', async () => {
        const token = await store.setSession(id(), record(clock, { a: 1 }, 1000));
        clock.advance(999);
        expect(ended(await store.getSession(token))).toBe(false);
        clock.advance(1);
        expect(ended(await store.getSession(token))).toBe(true);
      });

      it('when the deadline passed, the session has ended even if expireTime did not', async () => {
        const now = clock.now();
        const token = await store.setSession(id(), { values: { a: 1 }, expireTime: now + HOUR, deadline: now + 1000 });
        clock.advance(1000);
        expect(ended(await store.getSession(token))).toBe(true);
      });

      it('returns a copy: changing the saved object afterwards does not change the store', async () => {
        const values: ContractValues = { list: [1, 2] };
        const token = await store.setSession(id(), record(clock, values));
        (values.list as number[]).push(3);
        values.extra = true;
        const loaded = await store.getSession(token);
        expect(loaded?.values).toEqual({ list: [1, 2] });
      });
    });

    describe('.setSession', () => {
      it('returns a token that fits in a cookie value', async () => {
        const token = await store.setSession(id(), record(clock, { a: 'b; c=d, "e"' }));
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      });

      it('when a session is saved twice under one id, the second replaces the first', async () => {
        const sessionId = id();
        await store.setSession(sessionId, record(clock, { a: 1, b: 2 }));
        const token = await store.setSession(sessionId, record(clock, { b: 3 }));
        expect(await store.getSession(token)).toMatchObject({ values: { b: 3 } });
      });

      it('keeps sessions with different ids apart', async () => {
        const first = await store.setSession(id(), record(clock, { who: 'first' }));
        const second = await store.setSession(id(), record(clock, { who: 'second' }));
        expect(await store.getSession(first)).toMatchObject({ values: { who: 'first' } });
        expect(await store.getSession(second)).toMatchObject({ values: { who: 'second' } });
      });
    });

    describe('.tokenLength', () => {
      it('when the store gives it, is the length of the token that setSession and patchSession return', async () => {
        if (!hasTokenLength(store)) {
          return;
        }
        const sessionId = id();
        const expected = store.tokenLength(sessionId);
        const token = await store.setSession(sessionId, record(clock, { a: 'b' }));
        expect(token.length).toBe(expected);
        if (isPatchableStore(store)) {
          const later = record(clock, {});
          const patched = await store.patchSession(sessionId, {
            set: { c: 'd' },
            unset: ['a'],
            expireTime: later.expireTime,
            deadline: later.deadline,
          });
          expect(patched?.length).toBe(store.tokenLength(sessionId));
        }
      });
    });

    describe('.deleteSession', () => {
      it('when the id is unknown, resolves (idempotent)', async () => {
        expect(await store.deleteSession(id())).toBeUndefined();
        expect(await store.deleteSession(id())).toBeUndefined();
      });

      it('revokes a server-side session; a cookie store cannot revoke', async () => {
        const sessionId = id();
        const token = await store.setSession(sessionId, record(clock, { a: 1 }));
        const loaded = await store.getSession(token);
        await store.deleteSession(loaded!.id);
        await store.deleteSession(loaded!.id);
        if (fixture.serverSide) {
          expect(loaded?.id).toBe(sessionId);
          expect(await store.getSession(token)).toBeUndefined();
        } else {
          expect(loaded?.id).toBe('');
          expect(await store.getSession(token)).toBeDefined();
        }
      });
    });

    it('when it encrypts values, its backend holds no plaintext value', async () => {
      const secret = `secret-${id()}`;
      await store.setSession(id(), record(clock, { secret, nested: { deeper: secret } }));
      if (fixture.dump === undefined) {
        return;
      }
      const dump = await fixture.dump();
      expect(dump.length).toBeGreaterThan(0);
      expect(dump.includes(secret)).toBe(!fixture.encryptsValues);
    });

    describe('optional abilities', () => {
      it('a patch applies set and unset on top of what is stored, when the store can patch', async () => {
        if (!isPatchableStore(store)) {
          expect(fixture.serverSide && fixture.requiredOnly !== true).toBe(false);
          return;
        }
        const sessionId = id();
        await store.setSession(sessionId, record(clock, { keep: 1, change: 'old', drop: true }));
        const patch = record(clock, {}, 2 * HOUR);
        const token = await store.patchSession(sessionId, {
          set: { change: 'new', add: [1] },
          unset: ['drop', 'never-there'],
          expireTime: patch.expireTime,
          deadline: patch.deadline,
        });
        const loaded = await store.getSession(token!);
        expect(loaded?.values).toEqual({ keep: 1, change: 'new', add: [1] });
        expect(loaded?.expireTime).toBe(patch.expireTime);
      });

      it('a patch never brings back a deleted or expired session', async () => {
        if (!isPatchableStore(store)) {
          return;
        }
        const deleted = id();
        await store.setSession(deleted, record(clock, { a: 1 }));
        await store.deleteSession(deleted);
        const later = record(clock, {});
        expect(await 
          store.patchSession(deleted, { set: { a: 2 }, unset: [], expireTime: later.expireTime, deadline: later.deadline }),
        ).toBeUndefined();

        const expired = id();
        await store.setSession(expired, record(clock, { a: 1 }, 1000));
        clock.advance(1000);
        const fresh = record(clock, {});
        expect(await 
          store.patchSession(expired, { set: { a: 2 }, unset: [], expireTime: fresh.expireTime, deadline: fresh.deadline }),
        ).toBeUndefined();
      });

      it('50 concurrent patches of different keys all survive', async () => {
        const patchable = store;
        if (!isPatchableStore(patchable)) {
          return;
        }
        const sessionId = id();
        await store.setSession(sessionId, record(clock, { base: true }));
        const later = record(clock, {});
        const tokens = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            patchable.patchSession(sessionId, {
              set: { [`k${i}`]: i },
              unset: [],
              expireTime: later.expireTime,
              deadline: later.deadline,
            }),
          ),
        );
        const loaded = await store.getSession(tokens[49]!);
        expect(Object.keys(loaded!.values)).toHaveLength(51);
        for (let i = 0; i < 50; i++) {
          expect(loaded!.values[`k${i}`]).toBe(i);
        }
      });

      it('deletes every session of one owner and no other, when the store keeps an owner index', async () => {
        if (!isOwnerIndexedStore(store)) {
          expect(fixture.serverSide && fixture.requiredOnly !== true).toBe(false);
          return;
        }
        const indexed = store;
        const ada = await Promise.all([1, 2, 3].map(() => indexed.setSession(id(), record(clock, { u: 'ada' }), 'ada')));
        const bob = await Promise.all([1, 2].map(() => indexed.setSession(id(), record(clock, { u: 'bob' }), 'bob')));
        const anonymous = await indexed.setSession(id(), record(clock, {}));
        expect(await indexed.deleteOwnerSessions('ada')).toBe(3);
        for (const token of ada) {
          expect(await store.getSession(token)).toBeUndefined();
        }
        for (const token of [...bob, anonymous]) {
          expect(await store.getSession(token)).toBeDefined();
        }
        expect(await indexed.deleteOwnerSessions('ada')).toBe(0);
      });

      it('a patch without owner keeps the owner the store holds', async () => {
        if (!isOwnerIndexedStore(store) || !isPatchableStore(store)) {
          return;
        }
        const both = store;
        const sessionId = id();
        await both.setSession(sessionId, record(clock, { u: 'ada' }), 'ada');
        const later = record(clock, {});
        const token = await both.patchSession(sessionId, {
          set: { n: 1 },
          unset: [],
          expireTime: later.expireTime,
          deadline: later.deadline,
        });
        expect(token).toBeDefined();
        expect(await both.getSession(token!)).toMatchObject({ values: { u: 'ada', n: 1 } });
        expect(await both.deleteOwnerSessions('ada')).toBe(1);
        expect(await both.getSession(token!)).toBeUndefined();
      });

      it('a patch with owner null drops the owner', async () => {
        if (!isOwnerIndexedStore(store) || !isPatchableStore(store)) {
          return;
        }
        const both = store;
        const sessionId = id();
        await both.setSession(sessionId, record(clock, { u: 'ada' }), 'ada');
        const later = record(clock, {});
        const expiry = { expireTime: later.expireTime, deadline: later.deadline };
        const token = await both.patchSession(sessionId, { set: {}, unset: ['u'], owner: null, ...expiry });
        expect(token).toBeDefined();
        // No owner at all: neither the old one nor one named after null.
        for (const owner of ['ada', 'null', '']) {
          expect(await both.deleteOwnerSessions(owner)).toBe(0);
        }
        // And a later patch that leaves the owner alone does not bring it back.
        await both.patchSession(sessionId, { set: { n: 1 }, unset: [], ...expiry });
        expect(await both.deleteOwnerSessions('ada')).toBe(0);
        expect(await both.getSession(token!)).toMatchObject({ values: { n: 1 } });
      });

      it('deleteOwnerSessions ends expired sessions of the owner too, but counts only the live ones', async () => {
        if (!isOwnerIndexedStore(store)) {
          return;
        }
        const indexed = store;
        const short = await indexed.setSession(id(), record(clock, { u: 'ada' }, 1000), 'ada');
        const long = await indexed.setSession(id(), record(clock, { u: 'ada' }), 'ada');
        clock.advance(1000);
        expect(await indexed.deleteOwnerSessions('ada')).toBe(1);
        expect(await store.getSession(long)).toBeUndefined();
        expect(await store.getSession(short)).toBeUndefined();
        expect(await indexed.deleteOwnerSessions('ada')).toBe(0);
      });

      it('moves a session to its new owner when it is saved again', async () => {
        if (!isOwnerIndexedStore(store)) {
          return;
        }
        const indexed = store;
        const sessionId = id();
        await indexed.setSession(sessionId, record(clock, {}), 'ada');
        const token = await indexed.setSession(sessionId, record(clock, {}), 'bob');
        expect(await indexed.deleteOwnerSessions('ada')).toBe(0);
        expect(await store.getSession(token)).toBeDefined();
        expect(await indexed.deleteOwnerSessions('bob')).toBe(1);
        expect(await store.getSession(token)).toBeUndefined();
      });
    });

    describe('metadata', () => {
      it('keeps the metadata text beside the values and gives it back unchanged', async () => {
        const sessionId = id();
        const meta = '{"c":1,"u":"Mozilla/5.0 \u00e9\\"}';
        const token = await store.setSession(sessionId, record(clock, { a: 1 }, HOUR, meta));
        expect(await store.getSession(token)).toMatchObject({ values: { a: 1 }, meta });
        const bare = await store.setSession(id(), record(clock, { a: 1 }));
        expect((await store.getSession(bare))?.meta).toBeUndefined();
      });

      it('a patch replaces the metadata when it gives one, and keeps it otherwise', async () => {
        if (!isPatchableStore(store)) {
          return;
        }
        const sessionId = id();
        await store.setSession(sessionId, record(clock, { a: 1 }, HOUR, 'first'));
        const later = record(clock, {});
        const expiry = { expireTime: later.expireTime, deadline: later.deadline };
        const token = await store.patchSession(sessionId, { set: { b: 2 }, unset: [], meta: 'second', ...expiry });
        expect(await store.getSession(token!)).toMatchObject({ values: { a: 1, b: 2 }, meta: 'second' });
        const kept = await store.patchSession(sessionId, { set: { c: 3 }, unset: [], ...expiry });
        expect(await store.getSession(kept!)).toMatchObject({ meta: 'second' });
      });
    });

    describe('listing an owner\'s sessions', () => {
      let listing: OwnerListingSessionStore<ContractValues>;

      function save(sessionId: string, owner: string | undefined, meta?: string, ttl = HOUR): Promise<string> | string {
        return listing.setSession(sessionId, record(clock, { u: owner ?? null }, ttl, meta), owner);
      }

      beforeEach(() => {
        if (isOwnerListingStore(store)) {
          listing = store;
        }
      });

      it('is offered by every store that keeps sessions on a server and an owner index', () => {
        expect(isOwnerListingStore(store)).toBe(fixture.serverSide && isOwnerIndexedStore(store));
      });

      it('lists the live sessions of one owner by handle, with their metadata, never their ids', async () => {
        if (!isOwnerListingStore(store)) {
          return;
        }
        const ids = [id(), id(), id()];
        for (const [i, sessionId] of ids.entries()) {
          await save(sessionId, 'ada', `meta-${i}`);
        }
        const gone = id();
        await save(gone, 'ada', 'short', 1000);
        const bob = id();
        await save(bob, 'bob', 'bob');
        await save(id(), undefined, 'nobody');
        clock.advance(1000);
        const listed = await listing.listOwnerSessions('ada');
        expect(listed.map((entry) => entry.handle).sort()).toEqual(ids.map(handleOf).sort());
        for (const [i, sessionId] of ids.entries()) {
          const entry = listed.find((candidate) => candidate.handle === handleOf(sessionId));
          expect(entry).toMatchObject({ meta: `meta-${i}` });
          expect(entry!.expireTime).toBeGreaterThan(clock.now());
          expect(entry!.deadline).toBeGreaterThanOrEqual(entry!.expireTime);
        }
        const text = JSON.stringify(listed);
        for (const sessionId of [...ids, gone, bob]) {
          expect(text).not.toContain(sessionId);
        }
        expect(await listing.listOwnerSessions('carol')).toEqual([]);
      });

      it('ends one session by its handle, and only for its own owner', async () => {
        if (!isOwnerListingStore(store)) {
          return;
        }
        const mine = id();
        const other = id();
        const tokenMine = await save(mine, 'ada');
        const tokenOther = await save(other, 'ada');
        const bob = id();
        const tokenBob = await save(bob, 'bob');
        expect(await listing.deleteSessionByHandle('ada', handleOf(bob))).toBe(false);
        expect(await listing.deleteSessionByHandle('ada', 'not-a-handle')).toBe(false);
        expect(await store.getSession(tokenBob)).toBeDefined();
        expect(await listing.deleteSessionByHandle('ada', handleOf(other))).toBe(true);
        expect(await store.getSession(tokenOther)).toBeUndefined();
        expect(await store.getSession(tokenMine)).toBeDefined();
        expect(await listing.deleteSessionByHandle('ada', handleOf(other))).toBe(false);
        expect((await listing.listOwnerSessions('ada')).map((entry) => entry.handle)).toEqual([handleOf(mine)]);
      });

      it.each([
        ['containing U+0000', `${'A'.repeat(42)}\u0000`],
        ['U+0000 alone', '\u0000'],
        ['a lone surrogate', `${'A'.repeat(42)}\ud800`],
        ['a lone low surrogate', '\udc00'.repeat(43)],
        ['very long', 'A'.repeat(100_000)],
        ['empty', ''],
        ['of 43 characters but not base64url', `${'A'.repeat(42)}=`],
      ])('when the handle is %s (no store can hold it), deleteSessionByHandle answers false and throws nothing', async (_label, handle) => {
        if (!isOwnerListingStore(store)) {
          return;
        }
        const mine = id();
        const token = await save(mine, 'ada');
        expect(await listing.deleteSessionByHandle('ada', handle)).toBe(false);
        expect(await store.getSession(token)).toBeDefined();
        // As the one to keep, it names no session: every session of the owner ends.
        expect(await listing.deleteOwnerSessions('ada', handle)).toBe(1);
        expect(await store.getSession(token)).toBeUndefined();
      });

      it('ends every session of an owner but the one kept', async () => {
        if (!isOwnerListingStore(store)) {
          return;
        }
        const kept = id();
        const keptToken = await save(kept, 'ada');
        const others = await Promise.all([id(), id(), id()].map((sessionId) => save(sessionId, 'ada')));
        expect(await listing.deleteOwnerSessions('ada', handleOf(kept))).toBe(3);
        expect(await store.getSession(keptToken)).toBeDefined();
        for (const token of others) {
          expect(await store.getSession(token)).toBeUndefined();
        }
      });

      it('a save racing an end never brings the session back', async () => {
        if (!isOwnerListingStore(store) || !isPatchableStore(store)) {
          return;
        }
        const both = store as OwnerListingSessionStore<ContractValues> & typeof store;
        for (let round = 0; round < 5; round++) {
          const byHandle = id();
          const others = [id(), id()];
          const kept = id();
          await save(byHandle, 'ada');
          await save(kept, 'ada');
          for (const sessionId of others) {
            await save(sessionId, 'ada');
          }
          const later = record(clock, {});
          const patch = (sessionId: string) =>
            both.patchSession(sessionId, { set: { n: round }, unset: [], meta: 'patched', expireTime: later.expireTime, deadline: later.deadline });
          const results = await Promise.all([
            patch(byHandle),
            listing.deleteSessionByHandle('ada', handleOf(byHandle)),
            ...others.map(patch),
            listing.deleteOwnerSessions('ada', handleOf(kept)),
            patch(byHandle),
            ...others.map(patch),
          ]);
          expect(results[1]).toBe(true);
          const listed = (await listing.listOwnerSessions('ada')).map((entry) => entry.handle);
          expect(listed).toEqual([handleOf(kept)]);
          await listing.deleteOwnerSessions('ada');
        }
      });

      describe('.limitOwnerSessions', () => {
        it("with 'evict', a new session of a full owner ends the one written least recently", async () => {
          if (!isOwnerListingStore(store)) {
            return;
          }
          const evicted: [string, readonly string[]][] = [];
          listing.limitOwnerSessions({ max: 2, policy: 'evict', evicted: (owner, handles) => evicted.push([owner, handles]) });
          const first = id();
          const second = id();
          const firstToken = await save(first, 'ada');
          clock.advance(1000);
          const secondToken = await save(second, 'ada');
          clock.advance(1000);
          // Written again: now the first is the more recent of the two.
          await save(first, 'ada', 'again');
          clock.advance(1000);
          const thirdToken = await save(id(), 'ada');
          expect(evicted).toEqual([['ada', [handleOf(second)]]]);
          expect(await store.getSession(secondToken)).toBeUndefined();
          expect(await store.getSession(firstToken)).toBeDefined();
          expect(await store.getSession(thirdToken)).toBeDefined();
          // Another owner, and sessions without one, are not bounded by ada's count.
          await save(id(), 'bob');
          await save(id(), undefined);
          // Saving a session the owner has already never evicts.
          await save(first, 'ada', 'once more');
          expect(evicted).toHaveLength(1);
          expect(await listing.listOwnerSessions('ada')).toHaveLength(2);
        });

        it('an eviction report that throws does not make the written save fail, nor undo it', async () => {
          if (!isOwnerListingStore(store)) {
            return;
          }
          const told: string[] = [];
          listing.limitOwnerSessions({
            max: 1,
            policy: 'evict',
            evicted: (_owner, handles) => {
              told.push(...handles);
              throw new Error('a listener failed');
            },
          });
          const first = id();
          const firstToken = await save(first, 'ada');
          clock.advance(1000);
          const secondToken = await save(id(), 'ada');
          expect(told).toEqual([handleOf(first)]);
          expect(await store.getSession(firstToken)).toBeUndefined();
          expect((await store.getSession(secondToken))?.values).toEqual({ u: 'ada' });
          expect(await listing.listOwnerSessions('ada')).toHaveLength(1);
        });

        it("with 'refuse', a new session of a full owner is refused with SessionLimitError and nothing is written", async () => {
          if (!isOwnerListingStore(store)) {
            return;
          }
          listing.limitOwnerSessions({ max: 2, policy: 'refuse' });
          const first = id();
          await save(first, 'ada');
          await save(id(), 'ada');
          const refused = id();
          await expect(async () => save(refused, 'ada')).rejects.toBeInstanceOf(SessionLimitError);
          const handles = (await listing.listOwnerSessions('ada')).map((entry) => entry.handle);
          expect(handles).toHaveLength(2);
          expect(handles).not.toContain(handleOf(refused));
          await save(first, 'ada', 'still fine');
          await listing.deleteSessionByHandle('ada', handleOf(first));
          expect(await save(refused, 'ada')).toBeDefined();
        });

        it('expired sessions do not count against the bound', async () => {
          if (!isOwnerListingStore(store)) {
            return;
          }
          listing.limitOwnerSessions({ max: 1, policy: 'refuse' });
          await save(id(), 'ada', undefined, 1000);
          clock.advance(1000);
          expect(await save(id(), 'ada')).toBeDefined();
        });

        it('holds under concurrent log-ins of one owner', async () => {
          if (!isOwnerListingStore(store)) {
            return;
          }
          listing.limitOwnerSessions({ max: 3, policy: 'refuse' });
          const results = await Promise.allSettled(Array.from({ length: 10 }, () => save(id(), 'ada')));
          expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
          for (const result of results) {
            if (result.status === 'rejected') {
              expect(result.reason).toBeInstanceOf(SessionLimitError);
            }
          }
          expect(await listing.listOwnerSessions('ada')).toHaveLength(3);
        });

        it("with 'evict', concurrent log-ins leave at most the bound", async () => {
          if (!isOwnerListingStore(store)) {
            return;
          }
          listing.limitOwnerSessions({ max: 3, policy: 'evict' });
          await Promise.all(Array.from({ length: 10 }, () => save(id(), 'ada')));
          expect((await listing.listOwnerSessions('ada')).length).toBeLessThanOrEqual(3);
        });
      });
    });

    describe('renewal', () => {
      let renewable: RenewableSessionStore<ContractValues> & OwnerListingSessionStore<ContractValues>;
      const GRACE = 30_000;

      function save(sessionId: string, owner: string | undefined, values: ContractValues = { u: owner ?? null }): Promise<string> | string {
        return (store as OwnerListingSessionStore<ContractValues>).setSession(sessionId, record(clock, values), owner);
      }

      function renew(from: string, to: string, owner: string | undefined, grace = GRACE, values: ContractValues = { u: owner ?? null, renewed: true }) {
        return renewable.renewSession(from, to, { record: record(clock, values, HOUR, 'after'), owner, grace });
      }

      async function listed(owner: string): Promise<string[]> {
        return (await renewable.listOwnerSessions(owner)).map((entry) => entry.handle).sort();
      }

      /** A session of `owner`, saved, then renewed: its two ids and the successor's token. */
      async function savedThenRenewed(owner = 'ada'): Promise<{ before: string; after: string; token: string }> {
        const before = id();
        const after = id();
        await save(before, owner);
        return { before, after, token: (await renew(before, after, owner))! };
      }

      beforeEach(() => {
        if (isRenewableStore(store)) {
          renewable = store as typeof renewable;
        }
      });

      it('is offered by every store that lists sessions', () => {
        expect(isRenewableStore(store)).toBe(isOwnerListingStore(store));
      });

      it('writes the successor, and serves the retired id read-only, as it was, within the grace', async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        const before = id();
        const after = id();
        const oldToken = await save(before, 'ada', { u: 'ada', cart: 3 });
        const token = await renew(before, after, 'ada');
        expect(token).toEqual(expect.any(String));
        const successor = await store.getSession(token!);
        expect(successor).toMatchObject({ id: after, values: { u: 'ada', renewed: true }, meta: 'after' });
        expect(successor!.superseded).toBeUndefined();
        const retired = await store.getSession(oldToken);
        expect(retired).toMatchObject({ id: before, values: { u: 'ada', cart: 3 }, superseded: true });
        expect(await listed('ada')).toEqual([handleOf(after)]);
        clock.advance(GRACE);
        expect(await store.getSession(oldToken)).toBeUndefined();
        expect(await store.getSession(token!)).toMatchObject({ id: after });
      });

      it('with no grace, forgets the retired id at once', async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        const before = id();
        const oldToken = await save(before, undefined);
        expect(await renew(before, id(), undefined, 0)).toEqual(expect.any(String));
        expect(await store.getSession(oldToken)).toBeUndefined();
      });

      it('writes nothing for an id that is unknown, ended, expired or renewed already', async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        expect(await renew(id(), id(), 'ada')).toBeUndefined();
        const ended = id();
        await save(ended, 'ada');
        await store.deleteSession(ended);
        expect(await renew(ended, id(), 'ada')).toBeUndefined();
        const expired = id();
        await renewable.setSession(expired, record(clock, {}, 1000), 'ada');
        clock.advance(1000);
        expect(await renew(expired, id(), 'ada')).toBeUndefined();
        const twice = id();
        await save(twice, 'ada');
        const first = id();
        expect(await renew(twice, first, 'ada')).toEqual(expect.any(String));
        expect(await renew(twice, id(), 'ada')).toBeUndefined();
        expect(await listed('ada')).toEqual([handleOf(first)]);
      });

      it('a patch of a retired id writes nothing, into it or its successor', async () => {
        if (!isRenewableStore(store) || !isPatchableStore(store)) {
          return;
        }
        const before = id();
        const after = id();
        const oldToken = await save(before, 'ada', { u: 'ada', page: 1 });
        const token = await renew(before, after, 'ada');
        const later = record(clock, {});
        expect(await 
          store.patchSession(before, { set: { page: 2 }, unset: [], expireTime: later.expireTime, deadline: later.deadline }),
        ).toBeUndefined();
        expect(await store.getSession(oldToken)).toMatchObject({ values: { page: 1 }, superseded: true });
        expect((await store.getSession(token!))!.values).not.toHaveProperty('page');
      });

      it('the retired id ends with its successor, followed through later renewals', async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        const first = id();
        const second = id();
        const third = id();
        const firstToken = await save(first, 'ada');
        const secondToken = (await renew(first, second, 'ada'))!;
        await renew(second, third, 'ada');
        expect(await store.getSession(firstToken)).toMatchObject({ superseded: true });
        expect(await store.getSession(secondToken)).toMatchObject({ superseded: true });
        await renewable.deleteOwnerSessions('ada');
        expect(await store.getSession(firstToken)).toBeUndefined();
        expect(await store.getSession(secondToken)).toBeUndefined();

        const alone = id();
        const aloneToken = await save(alone, undefined);
        const next = id();
        await renew(alone, next, undefined);
        await store.deleteSession(next);
        expect(await store.getSession(aloneToken)).toBeUndefined();
      });

      it("an owner's end ends a retired id renewed into another owner's session, uncounted; its handle names nothing past the grace", async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        const ada = id();
        const bob = id();
        const adaToken = await save(ada, 'ada');
        const bobToken = (await renew(ada, bob, 'bob'))!;
        expect(await store.getSession(adaToken)).toMatchObject({ superseded: true, values: { u: 'ada' } });
        expect(await renewable.deleteOwnerSessions('ada')).toBe(0);
        expect(await store.getSession(adaToken)).toBeUndefined();
        expect(await store.getSession(bobToken)).toMatchObject({ id: bob });

        const { before: first, after: second, token: secondToken } = await savedThenRenewed();
        clock.advance(GRACE);
        expect(await renewable.deleteSessionByHandle('ada', handleOf(first))).toBe(false);
        expect(await store.getSession(secondToken)).toMatchObject({ id: second });
      });

      it('deleting a retired id in its grace (a log-out racing a renewal) ends its successor too; past the grace, nothing', async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        const { before: before, after: after, token: token } = await savedThenRenewed();
        await store.deleteSession(before);
        expect(await store.getSession(token)).toBeUndefined();
        expect(await listed('ada')).toEqual([]);

        const { before: old, after: next, token: nextToken } = await savedThenRenewed();
        clock.advance(GRACE);
        await store.deleteSession(old);
        expect(await store.getSession(nextToken)).toMatchObject({ id: next });
      });

      it('ending the others keeps the kept session and what it was renewed into meanwhile: the same device', async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        const laptop = id();
        const phone = id();
        await save(laptop, 'ada');
        await save(phone, 'ada');
        const renewed = id();
        const token = (await renew(laptop, renewed, 'ada'))!;
        expect(await renewable.deleteOwnerSessions('ada', handleOf(laptop))).toBe(1);
        expect(await store.getSession(token)).toMatchObject({ id: renewed });
        expect(await listed('ada')).toEqual([handleOf(renewed)]);
      });

      it("ending a retired id by its handle ends its successor: the same device", async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        const { before: before, after: after, token: token } = await savedThenRenewed();
        expect(await renewable.deleteSessionByHandle('bob', handleOf(before))).toBe(false);
        expect(await store.getSession(token)).toBeDefined();
        expect(await renewable.deleteSessionByHandle('ada', handleOf(before))).toBe(true);
        expect(await store.getSession(token)).toBeUndefined();
        expect(await listed('ada')).toEqual([]);
      });

      it('a renewal racing each kind of end never brings the session back', async () => {
        if (!isRenewableStore(store)) {
          return;
        }
        for (const end of ['handle', 'owner', 'others', 'delete'] as const) {
          for (let round = 0; round < 4; round++) {
            const before = id();
            const after = id();
            const kept = id();
            await save(before, 'ada');
            await save(kept, 'ada');
            const ending = {
              handle: () => renewable.deleteSessionByHandle('ada', handleOf(before)),
              owner: () => renewable.deleteOwnerSessions('ada'),
              others: () => renewable.deleteOwnerSessions('ada', handleOf(kept)),
              delete: () => store.deleteSession(before),
            }[end];
            const [token] = round % 2 === 0 ? await Promise.all([renew(before, after, 'ada'), ending()]) : (await Promise.all([ending(), renew(before, after, 'ada')])).reverse();
            const handles = await listed('ada');
            if (end === 'delete') {
              // A delete of the old id alone does not end a successor written first.
              expect(handles).toContain(handleOf(kept));
            } else {
              expect(handles).not.toContain(handleOf(after));
              if (token !== undefined) {
                expect(await store.getSession(token as string)).toBeUndefined();
              }
            }
            if (token === undefined) {
              expect(handles).not.toContain(handleOf(after));
            }
            await renewable.deleteOwnerSessions('ada');
          }
        }
      });

      describe('at the owner bound', () => {
        for (const policy of ['evict', 'refuse'] as const) {
          it(`with '${policy}', the successor takes its predecessor's place: nothing refused or evicted`, async () => {
            if (!isRenewableStore(store)) {
              return;
            }
            const evicted: string[] = [];
            renewable.limitOwnerSessions({ max: 2, policy, evicted: (_owner, handles) => evicted.push(...handles) });
            const mine = id();
            const other = id();
            await save(mine, 'ada');
            await save(other, 'ada');
            let current = mine;
            for (let step = 0; step < 3; step++) {
              const next = id();
              expect(await renew(current, next, 'ada')).toEqual(expect.any(String));
              current = next;
            }
            expect(evicted).toEqual([]);
            expect(await listed('ada')).toEqual([handleOf(current), handleOf(other)].sort());
          });
        }

        it("a log-in (an anonymous session renewed into a full owner's) is bounded as any new session", async () => {
          if (!isRenewableStore(store)) {
            return;
          }
          renewable.limitOwnerSessions({ max: 1, policy: 'refuse' });
          await save(id(), 'ada');
          const anonymous = id();
          const anonymousToken = await save(anonymous, undefined);
          await expect(async () => renew(anonymous, id(), 'ada')).rejects.toBeInstanceOf(SessionLimitError);
          const still = await store.getSession(anonymousToken);
          expect(still).toBeDefined();
          expect(still!.superseded).toBeUndefined();
        });

        it('concurrent renewals of one session leave exactly one successor', async () => {
          if (!isRenewableStore(store)) {
            return;
          }
          renewable.limitOwnerSessions({ max: 2, policy: 'evict' });
          const mine = id();
          const other = id();
          await save(mine, 'ada');
          await save(other, 'ada');
          const successors = [id(), id(), id(), id(), id()];
          const tokens = await Promise.all(successors.map((next) => renew(mine, next, 'ada')));
          expect(tokens.filter((token) => token !== undefined)).toHaveLength(1);
          const won = successors[tokens.findIndex((token) => token !== undefined)]!;
          expect(await listed('ada')).toEqual([handleOf(won), handleOf(other)].sort());
        });
      });
    });
  });
}
