import type { IncomingMessage, ServerResponse } from 'node:http';
import { mergingHeaders, type HeaderTarget } from '../../core/headers.js';
import type { SessionHeaderSink } from '../lifecycle.js';
import type { HeadersLike, RequestLike } from '../../core/http.js';

/**
 * Wraps a node:http request so it fits {@link RequestLike}, without building a Web
 * `Request` (which would cost more than the whole session layer).
 *
 * @param request - The incoming request.
 * @returns A view that reads its headers.
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const context = await manager.extractSession(Context.background, fromNodeRequest(req));
 * });
 * ```
 */
export function fromNodeRequest(request: IncomingMessage): RequestLike {
  return new NodeRequestView(request);
}

/**
 * @internal A node:http request as a framework sees it, whose client address is the
 * framework's: Express's `req.ip` and Fastify's `request.ip`, which follow the app's
 * trust-proxy setting (`app.set('trust proxy', …)`, Fastify's `trustProxy`). Without that
 * setting both are the socket's address, as {@link fromNodeRequest} gives.
 *
 * @param request - The node:http request.
 * @param framework - The framework's request, whose `ip` is read when the manager's
 *   `clientAddress` option asks for the address.
 * @returns A view that reads the request's headers.
 */
export function fromFrameworkRequest(request: IncomingMessage, framework: { readonly ip?: string | undefined }): RequestLike {
  return new FrameworkRequestView(request, framework);
}

/**
 * What {@link fromNodeRequest} gives: a class, so that `clientAddress` is a getter on its
 * prototype (an object literal with a getter is built on V8's slow path, every request).
 */
class NodeRequestView implements RequestLike {
  readonly headers: RequestLike['headers'];
  readonly #request: IncomingMessage;

  constructor(request: IncomingMessage) {
    this.#request = request;
    this.headers = {
      get(name: string): string | null {
        const value = request.headers[name.toLowerCase()];
        if (value === undefined) {
          return null;
        }
        return Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  get clientAddress(): string | undefined {
    return this.#request.socket?.remoteAddress;
  }

  /**
   * The request's URL as the server saw it: https only when the socket is TLS (forwarded
   * headers are not trusted), the host from Host (or HTTP/2's `:authority`).
   */
  get url(): string {
    const request = this.#request;
    const tls = (request.socket as { encrypted?: boolean } | null)?.encrypted === true;
    const { host, ':authority': authority } = request.headers;
    const target = request.url ?? '/';
    // An absolute-form target (sent to a proxy) names a host of its own: keep the path only.
    const path = target.startsWith('/') ? target : '/';
    return `${tls ? 'https' : 'http'}://${host ?? (typeof authority === 'string' ? authority : 'localhost')}${path}`;
  }
}

/** What {@link fromFrameworkRequest} gives: the framework's client address. */
class FrameworkRequestView extends NodeRequestView {
  readonly #framework: { readonly ip?: string | undefined };

  constructor(request: IncomingMessage, framework: { readonly ip?: string | undefined }) {
    super(request);
    this.#framework = framework;
  }

  override get clientAddress(): string | undefined {
    return this.#framework.ip ?? super.clientAddress;
  }
}

/**
 * Wraps a node:http response so it fits {@link HeadersLike}. Call
 * `SessionManager.injectSession` with it before writing the head or the body. The
 * session's headers are merged with the app's: `Set-Cookie` beside the app's cookies,
 * `Cookie` added to `Vary` once, `private` added to `Cache-Control` (and `public`
 * dropped) unless `private` or `no-store` is there.
 *
 * @param response - The response being built.
 * @returns A view that appends headers to it.
 * @example
 * ```ts
 * await manager.injectSession(context, fromNodeResponse(res));
 * res.end('ok');
 * ```
 */
export function fromNodeResponse(response: ServerResponse): HeadersLike {
  return mergingHeaders(nodeHeaderTarget(response));
}

/**
 * A {@link HeaderTarget} over a node:http response.
 *
 * @internal
 * @param response - The response, its head not sent yet.
 * @returns The target.
 */
export function nodeHeaderTarget(response: ServerResponse): HeaderTarget {
  return {
    get(name) {
      const value = response.getHeader(name);
      return typeof value === 'number' ? String(value) : value;
    },
    set(name, value) {
      response.setHeader(name, value);
    },
  };
}

/**
 * Where the node:http adapter puts the session's headers: straight into
 * the response, while its head is not sent.
 *
 * @internal
 * @param response - The response.
 * @returns The sink.
 */
export function nodeSink(response: ServerResponse): SessionHeaderSink {
  return {
    headSent: () => response.headersSent,
    write: (headers) => headers.applyTo(nodeHeaderTarget(response)),
  };
}
