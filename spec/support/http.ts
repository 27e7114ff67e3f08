import { Context, type SessionManager } from 'kit-session';

/** A Web Request carrying the given Cookie header, if any. */
export function request(cookie?: string): Request {
  return new Request('http://localhost/', cookie === undefined ? {} : { headers: { cookie } });
}

/** The `name=value` part of the first Set-Cookie, for sending back. */
export function cookiePair(headers: Headers): string | undefined {
  const setCookie = headers.getSetCookie()[0];
  return setCookie?.split(';')[0];
}

/** Runs one request through a manager: extract, act, inject. */
export async function roundTrip<T extends object>(
  manager: SessionManager<T>,
  cookie: string | undefined,
  act: (context: Context) => void | Promise<void> = () => {},
): Promise<{ headers: Headers; cookie: string | undefined; context: Context }> {
  const context = await manager.extractSession(Context.background, request(cookie));
  await act(context);
  const headers = new Headers();
  await manager.injectSession(context, headers);
  return { headers, cookie: cookiePair(headers) ?? cookie, context };
}
