import type { ServerResponse } from 'node:http';
import type { HeaderTarget, PendingHeaders } from '../../core/headers.js';
import type { SessionHeaderSink, SessionLifecycle } from '../lifecycle.js';
import { nodeHeaderTarget } from '../node/http.js';

/** The methods of a node:http response that send its head or its body. */
const WRITERS = ['writeHead', 'flushHeaders', 'write', 'end'] as const;

type Writer = (typeof WRITERS)[number];
type Method = (this: ServerResponse, ...args: unknown[]) => unknown;

/**
 * Where the Express adapter puts the session's headers, and how it saves the session by
 * itself: the first call that would send the response (`writeHead`, `write`, `end`,
 * `flushHeaders`, which `res.send`, `res.json`, `res.redirect`, `res.sendStatus`, piped
 * streams and node:http's own implicit head all go through) starts the last save of the
 * session, and that call and the ones after it are held until the save settles.
 *
 * - Saved: the held calls run in order, with the session's headers on the response.
 * - Failed: the held calls are dropped, the response's headers cleared (but for those of
 *   an earlier successful commit) and its status reset to 200; the error goes to
 *   `onError`, and the app's error handler answers.
 * - Nothing to save (an unchanged session, its idle expiry not due): the call runs at
 *   once and the response's methods are put back: it costs no wait and no store call.
 *
 * Express, like node:http under it, has no hook that could wait before the head goes out
 * (`writeHead` is synchronous; saving is not), so the gate wraps the writers of this one
 * response, as express-session wraps `res.end`; the wrappers remove themselves at the
 * first write.
 *
 * @internal
 */
export class ResponseGate implements SessionHeaderSink {
  readonly #res: ServerResponse;
  readonly #target: HeaderTarget;
  /** What each successful save wrote: kept when a later save fails. */
  readonly #written: PendingHeaders[] = [];
  #holding = false;

  /**
   * @param res - The response, its head not sent yet.
   */
  constructor(res: ServerResponse) {
    this.#res = res;
    this.#target = nodeHeaderTarget(res);
  }

  /** Whether the head has really gone out (while the gate holds it, it has not). */
  headSent(): boolean {
    return !this.#holding && this.#res.headersSent;
  }

  /**
   * Adds a save's headers to the response, merged with the app's.
   *
   * @param headers - The session's headers.
   */
  write(headers: PendingHeaders): void {
    headers.applyTo(this.#target);
    this.#written.push(headers);
  }

  /**
   * Wraps the response's writers so that the first one saves the session before
   * anything goes out. A response of status 500 or more, or one whose session already
   * failed to save (`commit()` rejected and the app answered), saves nothing.
   *
   * @param lifecycle - The request's session.
   * @param onError - Takes a failed save's error, once the response is clear to answer it.
   */
  saveBeforeHead<T extends object>(lifecycle: SessionLifecycle<T>, onError: (error: unknown) => void): void {
    const res = this.#res;
    const slots = res as unknown as Record<Writer, Method>;
    const own = WRITERS.map((name) => Object.hasOwn(res, name));
    const originals = WRITERS.map((name) => slots[name]);
    const wrappers: Method[] = [];
    const held: [index: number, args: unknown[]][] = [];
    let state: 'open' | 'holding' | 'through' = 'open';

    const hold = (on: boolean): void => {
      this.#holding = on;
      if (on) {
        // As far as the app can tell, it has sent its response.
        Object.defineProperty(res, 'headersSent', { configurable: true, get: () => true });
      } else {
        delete (res as { headersSent?: boolean }).headersSent;
      }
    };

    /** Puts the response's own methods back, unless another wrapper went on top of ours. */
    const restore = (): void => {
      state = 'through';
      WRITERS.forEach((name, i) => {
        if (slots[name] !== wrappers[i]) {
          return;
        }
        if (own[i]) {
          slots[name] = originals[i]!;
        } else {
          delete (slots as Partial<Record<Writer, Method>>)[name];
        }
      });
    };

    const replay = (): void => {
      hold(false);
      restore();
      let wrote = false;
      for (const [i, args] of held.splice(0)) {
        // A head asked for again while the first was held: node:http would refuse it.
        if (WRITERS[i] === 'writeHead' && res.headersSent) {
          continue;
        }
        originals[i]!.apply(res, args);
        wrote ||= WRITERS[i] === 'write';
      }
      // Held writes answered `false`: a writer waiting for 'drain' may go on.
      if (wrote && !res.writableEnded && !res.writableNeedDrain) {
        res.emit('drain');
      }
    };

    const abandon = (error: unknown): void => {
      hold(false);
      restore();
      held.length = 0;
      lifecycle.fail();
      if (!res.headersSent) {
        // The app's response is not sent: its error handler answers on a clean one,
        // with the cookie of any earlier successful save (whose old id may be gone).
        for (const name of res.getHeaderNames()) {
          res.removeHeader(name);
        }
        for (const headers of this.#written) {
          headers.applyTo(this.#target);
        }
        res.statusCode = 200;
      }
      onError(error);
    };

    /** At the first write: starts the last save; true when the write must wait for it. */
    const mustWait = (status: number): boolean => {
      if (lifecycle.failed || status >= 500) {
        lifecycle.fail();
      } else if (lifecycle.session.saveDue) {
        state = 'holding';
        hold(true);
        lifecycle.finish().then(() => {
          try {
            replay();
          } catch (error) {
            abandon(error);
          }
        }, abandon);
        return true;
      } else {
        lifecycle.close();
      }
      restore();
      return false;
    };

    WRITERS.forEach((name, i) => {
      const original = originals[i]!;
      const wrapper: Method = function gate(...args) {
        if (state === 'through') {
          return original.apply(res, args);
        }
        if (name === 'writeHead') {
          args = applyHeadHeaders(res, args);
        }
        if (state === 'open' && !mustWait(name === 'writeHead' && typeof args[0] === 'number' ? args[0] : res.statusCode)) {
          return original.apply(res, args);
        }
        held.push([i, args]);
        return name === 'write' ? false : name === 'flushHeaders' ? undefined : res;
      };
      wrappers.push(wrapper);
      slots[name] = wrapper;
    });
  }
}

/**
 * Sets the headers given to a held `writeHead(status, [message], [headers])` on the
 * response now, as node:http would, so that the session's headers merge with them
 * rather than being replaced when the head goes out.
 *
 * @returns The arguments without the headers.
 */
function applyHeadHeaders(res: ServerResponse, args: unknown[]): unknown[] {
  const [status, second, third] = args;
  const message = typeof second === 'string' ? second : undefined;
  const headers = message === undefined ? second : third;
  if (Array.isArray(headers)) {
    // Names and values in one list, a name given twice kept twice (node:http's rule).
    if (headers.length % 2 !== 0) {
      return args; // node:http refuses it when the head goes out
    }
    for (let n = 0; n < headers.length; n += 2) {
      res.removeHeader(String(headers[n]));
    }
    for (let n = 0; n < headers.length; n += 2) {
      if (headers[n]) {
        res.appendHeader(String(headers[n]), headers[n + 1] as string | readonly string[]);
      }
    }
  } else if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (name) {
        res.setHeader(name, value as string | number | readonly string[]);
      }
    }
  } else {
    return args;
  }
  return message === undefined ? [status] : [status, message];
}
