// Stand-ins for the two @revas-hq/kit-* packages the seed's README uses and kit-session
// does not replace: an endpoint's types (@revas-hq/kit-endpoint) and `createLoader`
// (@revas-hq/kit-http-react-router), in a few lines each. A React Router loader or
// action is a function from `{ request }` to a `Response`; `createLoader` makes either:
// it runs the `beforeFunctions` (load the session), the endpoint, then the
// `afterFunctions` (save the session) into the response's headers. The React Router app
// in ./app uses it; ./server.ts serves that app and says where this shape stops working:
// it loads and saves once per loader, so nested routes with loaders need kit-session's
// `sessionMiddleware` instead.
import { Context, type RequestFunction, type ResponseFunction } from 'kit-session';

/** What an endpoint is called with: the request's context and the decoded request. */
export interface EndpointArgs<TRequest> {
  readonly context: Context;
  readonly request: TRequest;
}

/** What an endpoint returns: a response, or an error with an HTTP status code. */
export type EndpointResult<TResponse> =
  | { readonly success: true; readonly context: Context; readonly response: TResponse }
  | { readonly success: false; readonly context: Context; readonly error: { readonly code: number; readonly message: string } };

/** An endpoint: business logic between decoding the request and encoding the response. */
export type Endpoint<TRequest, TResponse> = (args: EndpointArgs<TRequest>) => Promise<EndpointResult<TResponse>>;

/** How `createLoader` builds a loader or action. */
export interface LoaderOptions<TRequest, TResponse> {
  readonly endpoint: Endpoint<TRequest, TResponse>;
  readonly decodeRequest: (request: Request) => TRequest | Promise<TRequest>;
  readonly beforeFunctions?: readonly RequestFunction[];
  readonly afterFunctions?: readonly ResponseFunction[];
}

/**
 * Makes a React Router loader or action: before functions, endpoint, after functions.
 * The endpoint's response goes out as JSON, or as it is when it is a `Response` (a
 * `redirect('/')` from react-router); an error goes out as JSON with its code as the
 * status. The after functions write their headers (the session's `Set-Cookie`) onto it.
 *
 * @param options - The endpoint, its decoder and the functions around it.
 * @returns The loader (or action).
 * @example
 * ```ts
 * export const loader = createLoader({
 *   endpoint: myEndpoint,
 *   decodeRequest: myDecoder,
 *   beforeFunctions: [loadSession],
 *   afterFunctions: [saveSession],
 * });
 * ```
 */
export function createLoader<TRequest, TResponse>(
  options: LoaderOptions<TRequest, TResponse>,
): (args: { readonly request: Request }) => Promise<Response> {
  return async ({ request }) => {
    let context = Context.background;
    for (const before of options.beforeFunctions ?? []) {
      context = await before(context, request);
    }
    const result = await options.endpoint({ context, request: await options.decodeRequest(request) });
    const response = !result.success
      ? Response.json({ error: result.error.message }, { status: result.error.code })
      : result.response instanceof Response
        ? result.response
        : Response.json(result.response);
    const headers = new Headers(response.headers);
    for (const after of options.afterFunctions ?? []) {
      await after(result.context, headers);
    }
    return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
  };
}

/** The seed's other name for it: an action is made the same way as a loader. */
export const createAction = createLoader;

/** The seed's `myDecoder`: the request as the endpoint wants it (here, its URL). */
export const myDecoder = (request: Request): URL => new URL(request.url);
