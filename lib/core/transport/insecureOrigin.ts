// A Secure cookie sent where the browser will drop it (core/transport): a request that
// plainly arrived over http under a host name other than localhost. Forwarded headers
// are never trusted to say the scheme; their presence only means a proxy may have
// ended TLS in front, so nothing is said then.

/** What the check reads of a request: its URL (a Web `Request`'s, or `fromNodeRequest`'s). */
interface RequestWithUrl {
  readonly url?: string | undefined;
  readonly headers: { get(name: string): string | null };
}

/** Host names browsers treat as secure contexts over plain http. */
function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/**
 * Whether a request plainly arrived over http for a host that is not local: no TLS, no
 * proxy header that could mean TLS ended in front, and a host name browsers do not
 * treat as secure.
 *
 * @internal
 * @param request - The request.
 * @returns `true` when a Secure cookie set in its response would be dropped.
 */
export function insecureOrigin(request: RequestWithUrl): boolean {
  // Called on every write until it warns: string steps, no URL object.
  const { url } = request;
  if (typeof url !== 'string' || !url.startsWith('http://')) {
    return false;
  }
  if (isLocalHost(hostOf(url))) {
    return false;
  }
  const { headers } = request;
  if (headers.get('x-forwarded-proto') !== null || headers.get('forwarded') !== null) {
    return false;
  }
  // Not plainly local, and no proxy in front: let URL normalise the host (IPv6 written
  // out, short IPv4 forms, escapes) before judging. Reached until the warning is given.
  let hostname: string;
  try {
    hostname = new URL(url).hostname;
  } catch {
    return false;
  }
  return hostname !== '' && !isLocalHost(hostname);
}

/** The host name of an `http://` URL: its authority without user info and port. */
function hostOf(url: string): string {
  let end = url.length;
  for (const mark of ['/', '?', '#']) {
    const at = url.indexOf(mark, 7);
    if (at !== -1 && at < end) {
      end = at;
    }
  }
  let authority = url.slice(7, end);
  authority = authority.slice(authority.lastIndexOf('@') + 1);
  if (authority.startsWith('[')) {
    return authority.slice(0, authority.indexOf(']') + 1);
  }
  const colon = authority.indexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

/**
 * Says once, through the process's warnings where there are any (else the console),
 * that a Secure cookie went out over plain http and how to fix it.
 *
 * @internal
 * @param name - The cookie's name.
 */
export function warnOnce(name: string): void {
  const message =
    `kit-session: the Secure cookie "${name}" was sent in answer to a plain http request for a host ` +
    'other than localhost, and browsers drop it: the session will not stick. Serve the app over https ' +
    '(or behind a proxy that does), use http://localhost in development, or, for development only, ' +
    'give the cookie secure: false and a name without the __Host-/__Secure-/__Http- prefix.';
  const runtime = (globalThis as { process?: { emitWarning?: (message: string, options: object) => void } }).process;
  if (typeof runtime?.emitWarning === 'function') {
    runtime.emitWarning(message, { type: 'KitSessionWarning', code: 'KIT_SESSION_INSECURE_COOKIE' });
  } else {
    console.warn(message);
  }
}
