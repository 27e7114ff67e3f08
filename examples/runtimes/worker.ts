// The app of app.ts as a Cloudflare Worker (ES module syntax). A Worker may do no
// asynchronous work while its module loads and gets its secrets in `env` on each
// request, so the app is built at the first request. Run it with workerd.ts, or with
// wrangler (`wrangler secret put SESSION_KEY`).
import { importKeyFromEnv } from 'kit-session';
import { createApp } from './app.js';

/** The Worker's bindings. */
export interface Env {
  readonly SESSION_KEY: string;
}

let handle: ((request: Request) => Promise<Response>) | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    // Two first requests that arrive together may each build an app: they are alike.
    handle ??= createApp(await importKeyFromEnv('SESSION_KEY', { ...env }), 'workerd');
    return handle(request);
  },
};
