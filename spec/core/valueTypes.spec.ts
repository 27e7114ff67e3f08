import { Context, MemorySessionStore, SessionManager } from 'kit-session';

// getValue and popValue give each value its own type on a typed manager, and the type
// asked for (`getValue<string>(…)`) on an untyped one, as @revas-hq/kit-session code
// writes it. The type assertions are checked by `tsc --noEmit` (npm test runs it first).

type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_check?: T): void {}

describe('value types', () => {
  it('types values by the manager, or by the type argument on an untyped manager', async () => {
    const typed = new SessionManager<{ userId: string; visits: number }>(new MemorySessionStore());
    const untyped = new SessionManager(new MemorySessionStore());
    const context = await typed.extractSession(Context.background, new Request('https://app.test/'));
    const other = await untyped.extractSession(Context.background, new Request('https://app.test/'));
    typed.setValue(context, 'userId', 'u1');
    untyped.setValue(other, 'counter', 41);

    const userId = typed.getValue(context, 'userId');
    assertType<Equals<typeof userId, string | undefined>>();
    const counter = untyped.getValue<number>(other, 'counter');
    assertType<Equals<typeof counter, number | undefined>>();
    const bare = untyped.getValue(other, 'counter');
    assertType<Equals<typeof bare, unknown>>();
    const popped = untyped.popValue<number>(other, 'counter');
    assertType<Equals<typeof popped, number | undefined>>();
    // @ts-expect-error: a typed manager knows its value names.
    typed.getValue(context, 'nope');

    expect([userId, counter, bare, popped, untyped.getValue(other, 'counter')]).toEqual(['u1', 41, 41, 41, undefined]);
  });
});
