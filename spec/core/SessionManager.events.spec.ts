import { MemorySessionStore, SessionManager, type SessionEvent } from 'kit-session';
import { FakeClock } from '../support/FakeClock.js';
import { roundTrip } from '../support/http.js';

// The `onEvent` hook's failures: whatever it throws or rejects with is ignored, never a
// failed request and never an unhandled rejection (which Node's default turns into an
// exit of the process).

interface Values {
  userId: string;
}

/** Lets the microtasks and the unhandled-rejection check of this turn run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

describe(SessionManager, () => {
  describe('onEvent', () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);

    beforeEach(() => {
      unhandled.length = 0;
      process.on('unhandledRejection', record);
    });

    afterEach(() => {
      process.off('unhandledRejection', record);
    });

    it('when the listener is async and rejects, ignores it: the request succeeds and nothing reaches unhandledRejection', async () => {
      const clock = new FakeClock();
      const seen: SessionEvent['type'][] = [];
      const manager = new SessionManager<Values>(new MemorySessionStore<Values>({}, clock), {
        ownerKey: 'userId',
        onEvent: async (event) => {
          seen.push(event.type);
          throw new Error('audit log down');
        },
      }, clock);

      const { cookie } = await roundTrip(manager, undefined, (context) => manager.setValue(context, 'userId', 'ada'));
      await roundTrip(manager, cookie, (context) => manager.destroyValues(context)); // a log-out
      expect(await manager.destroyOwnerSessions('ada')).toBe(0);

      await settle();
      expect(seen).toEqual(['created', 'destroyed', 'destroyed']);
      expect(unhandled).toEqual([]);
    });

    it('when the listener returns a thenable whose then throws, ignores it', async () => {
      const clock = new FakeClock();
      const manager = new SessionManager<Values>(new MemorySessionStore<Values>({}, clock), {
        onEvent: (() => ({
          then() {
            throw new Error('odd thenable');
          },
        })) as unknown as (event: SessionEvent) => void,
      }, clock);
      await roundTrip(manager, undefined, (context) => manager.setValue(context, 'userId', 'ada'));
      await settle();
      expect(unhandled).toEqual([]);
    });
  });
});
