import type { ServerResponse } from 'node:http';
import type { PendingHeaders } from '../../core/headers.js';
import type { SessionHeaderSink, SessionLifecycle } from '../lifecycle.js';
import { nodeHeaderTarget } from '../node/http.js';

type Method = (this: ServerResponse, ...args: unknown[]) => unknown;

/** The response as the gate sees it: its writers. */
type Writers = Record<'writeHead' | 'flushHeaders' | 'write' | 'end', Method>;

/** The writers of a node:http response, by the index a held call keeps. */
const WRITE_HEAD = 0;
const FLUSH_HEADERS = 1;
const WRITE = 2;
const END = 3;

/** Where the gate is: the first write has not come; it holds the writes; it let them through. */
const OPEN = 0;
const HOLDING = 1;
const THROUGH = 2;

/**
 * The `headersSent` of a held response. One getter for every response, not a new one per
 * request: V8 reuses a shape only for the same accessor, and a new one per request sent
 * each response object into slow (dictionary) mode.
 */
const HEAD_HELD: PropertyDescriptor = { configurable: true, get: () => true };

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
 * The state of one response lives in this object's fields, not in closures, and the
 * properties it puts on the response are taken off in the reverse order they went on,
 * which lets V8 step the response back to its earlier shape rather than make it a slow
 * (dictionary) object: this runs on every request (the adapters benchmark's express
 * counter, `bench/adapters.bench.ts`).
 *
 * @internal
 */
export class ResponseGate implements SessionHeaderSink {
  readonly #res: ServerResponse;
  /** What each successful save wrote: kept when a later save fails. */
  #written: PendingHeaders[] | undefined;
  #holding = false;
  #state = OPEN;
  #lifecycle: SessionLifecycle<object> | undefined;
  #onError: ((error: unknown) => void) | undefined;
  /** The held calls, flat: a writer's index, then its arguments. */
  #held: (number | unknown[])[] | undefined;
  /** The writers as they were before the gate's (the response's own, or another wrapper's). */
  #writeHead: Method | undefined;
  #flushHeaders: Method | undefined;
  #write: Method | undefined;
  #end: Method | undefined;
  /** The gate's wrappers, to know whether another went on top of them. */
  #gatedWriteHead: Method | undefined;
  #gatedFlushHeaders: Method | undefined;
  #gatedWrite: Method | undefined;
  #gatedEnd: Method | undefined;
  /** Which writers were the response's own properties, by bit (1 << index). */
  #own = 0;

  /**
   * @param res - The response, its head not sent yet.
   */
  constructor(res: ServerResponse) {
    this.#res = res;
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
    headers.applyTo(nodeHeaderTarget(this.#res));
    (this.#written ??= []).push(headers);
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
    const res = this.#res as unknown as Writers;
    this.#lifecycle = lifecycle as unknown as SessionLifecycle<object>;
    this.#onError = onError;
    this.#own =
      (Object.hasOwn(res, 'writeHead') ? 1 << WRITE_HEAD : 0) |
      (Object.hasOwn(res, 'flushHeaders') ? 1 << FLUSH_HEADERS : 0) |
      (Object.hasOwn(res, 'write') ? 1 << WRITE : 0) |
      (Object.hasOwn(res, 'end') ? 1 << END : 0);
    const writeHead = (this.#writeHead = res.writeHead);
    const flushHeaders = (this.#flushHeaders = res.flushHeaders);
    const write = (this.#write = res.write);
    const end = (this.#end = res.end);
    // Arrow functions: `this` is the gate, whatever the caller binds.
    res.writeHead = this.#gatedWriteHead = (...args) => this.#call(WRITE_HEAD, writeHead, args);
    res.flushHeaders = this.#gatedFlushHeaders = (...args) => this.#call(FLUSH_HEADERS, flushHeaders, args);
    res.write = this.#gatedWrite = (...args) => this.#call(WRITE, write, args);
    res.end = this.#gatedEnd = (...args) => this.#call(END, end, args);
  }

  /** One call of a wrapped writer. */
  #call(index: number, original: Method, args: unknown[]): unknown {
    const res = this.#res;
    if (this.#state === THROUGH) {
      return original.apply(res, args);
    }
    if (index === WRITE_HEAD) {
      args = applyHeadHeaders(res, args);
    }
    if (this.#state === OPEN && !this.#mustWait(index === WRITE_HEAD && typeof args[0] === 'number' ? args[0] : res.statusCode)) {
      return original.apply(res, args);
    }
    (this.#held ??= []).push(index, args);
    return index === WRITE ? false : index === FLUSH_HEADERS ? undefined : res;
  }

  /** At the first write: starts the last save; true when the write must wait for it. */
  #mustWait(status: number): boolean {
    const lifecycle = this.#lifecycle!;
    if (lifecycle.failed || status >= 500) {
      lifecycle.fail();
    } else if (lifecycle.session.saveDue) {
      this.#state = HOLDING;
      this.#hold(true);
      lifecycle.finish().then(
        () => {
          try {
            this.#replay();
          } catch (error) {
            this.#abandon(error);
          }
        },
        (error: unknown) => this.#abandon(error),
      );
      return true;
    } else {
      lifecycle.close();
    }
    this.#restore();
    return false;
  }

  #hold(on: boolean): void {
    this.#holding = on;
    if (on) {
      // As far as the app can tell, it has sent its response.
      Object.defineProperty(this.#res, 'headersSent', HEAD_HELD);
    } else {
      delete (this.#res as { headersSent?: boolean }).headersSent;
    }
  }

  /**
   * Puts the response's own methods back, unless another wrapper went on top of ours;
   * last on, first off (see the class's comment).
   */
  #restore(): void {
    const res = this.#res as unknown as Partial<Writers>;
    const own = this.#own;
    this.#state = THROUGH;
    if (res.end === this.#gatedEnd) {
      if (own & (1 << END)) {
        res.end = this.#end;
      } else {
        delete res.end;
      }
    }
    if (res.write === this.#gatedWrite) {
      if (own & (1 << WRITE)) {
        res.write = this.#write;
      } else {
        delete res.write;
      }
    }
    if (res.flushHeaders === this.#gatedFlushHeaders) {
      if (own & (1 << FLUSH_HEADERS)) {
        res.flushHeaders = this.#flushHeaders;
      } else {
        delete res.flushHeaders;
      }
    }
    if (res.writeHead === this.#gatedWriteHead) {
      if (own & (1 << WRITE_HEAD)) {
        res.writeHead = this.#writeHead;
      } else {
        delete res.writeHead;
      }
    }
  }

  #original(index: number): Method {
    return (index === WRITE_HEAD ? this.#writeHead : index === FLUSH_HEADERS ? this.#flushHeaders : index === WRITE ? this.#write : this.#end)!;
  }

  #replay(): void {
    const res = this.#res;
    this.#hold(false);
    this.#restore();
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) {
      return;
    }
    let wrote = false;
    for (let n = 0; n < held.length; n += 2) {
      const index = held[n] as number;
      // A head asked for again while the first was held: node:http would refuse it.
      if (index === WRITE_HEAD && res.headersSent) {
        continue;
      }
      this.#original(index).apply(res, held[n + 1] as unknown[]);
      wrote ||= index === WRITE;
    }
    // Held writes answered `false`: a writer waiting for 'drain' may go on.
    if (wrote && !res.writableEnded && !res.writableNeedDrain) {
      res.emit('drain');
    }
  }

  #abandon(error: unknown): void {
    const res = this.#res;
    this.#hold(false);
    this.#restore();
    this.#held = undefined;
    this.#lifecycle!.fail();
    if (!res.headersSent) {
      // The app's response is not sent: its error handler answers on a clean one,
      // with the cookie of any earlier successful save (whose old id may be gone).
      for (const name of res.getHeaderNames()) {
        res.removeHeader(name);
      }
      if (this.#written !== undefined) {
        const target = nodeHeaderTarget(res);
        for (const headers of this.#written) {
          headers.applyTo(target);
        }
      }
      res.statusCode = 200;
    }
    this.#onError!(error);
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
