import {
  Context,
  MemorySessionStore,
  SessionManager,
  SessionNotLoadedError,
  SessionRequestHook,
  SessionResponseHook,
  type RequestFunction,
  type ResponseFunction,
} from 'kit-session';
import { cookiePair, request } from '../support/http.js';

describe(SessionRequestHook, () => {
  it('is a RequestFunction that loads the session into the context, even detached from its hook', async () => {
    const manager = new SessionManager<{ n: number }>(new MemorySessionStore());
    const handle: RequestFunction = new SessionRequestHook(manager).handle;
    const context = await handle(Context.background, request());
    expect(manager.getStatus(context)).toBe('new');
  });
});

describe(SessionResponseHook, () => {
  it('is a ResponseFunction that saves the session and writes the cookie', async () => {
    const manager = new SessionManager<{ n: number }>(new MemorySessionStore());
    const requestHook = new SessionRequestHook(manager).handle;
    const responseHook: ResponseFunction = new SessionResponseHook(manager).handle;

    const first = await requestHook(Context.background, request());
    manager.setValue(first, 'n', 1);
    const headers = new Headers();
    expect(await responseHook(first, headers)).toBe(first);

    const second = await requestHook(Context.background, request(cookiePair(headers)));
    expect(manager.getValue(second, 'n')).toBe(1);
  });

  it('when the request hook did not run, rejects with SessionNotLoadedError', async () => {
    const manager = new SessionManager(new MemorySessionStore());
    await expect(async () => new SessionResponseHook(manager).handle(Context.background, new Headers())).rejects.toBeInstanceOf(
      SessionNotLoadedError,
    );
  });
});
