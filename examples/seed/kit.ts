// Stand-ins for the two @revas-hq/kit-* packages the seed's README uses and kit-session
// does not replace: an endpoint's types (@revas-hq/kit-endpoint) and `createLoader`
// (@revas-hq/kit-http-react-router), in a few lines each. A React Router loader or
// action is a function from `{ request }` to a `Response`; `createLoader` makes one that
// runs the `beforeFunctions` (load the session), the endpoint, then the `afterFunctions`
// (save the session) into the response's headers.
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
 * Makes a React Router loader (or action): before functions, endpoint, after functions,
 * and the result as JSON (the error's code as the status).
 *
 * @param options - The endpoint, its decoder and the functions around it.
 * @returns The loader.
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
    const headers = new Headers({ 'content-type': 'application/json' });
    for (const after of options.afterFunctions ?? []) {
      await after(result.context, headers);
    }
    const body = result.success ? result.response : { error: result.error.message };
    return new Response(JSON.stringify(body), { status: result.success ? 200 : result.error.code, headers });
  };
}

/** The seed's `myDecoder`: the request as the endpoint wants it (here, its URL). */
export const myDecoder = (request: Request): URL => new URL(request.url);
