// Cases (b), (c) and (f): kit-session on node:http with an encrypted cookie, used like
// an app would, through the core (`fromNodeRequest`/`fromNodeResponse`).
//
//   node kit.js <auto|webcrypto>
//
// GET /incr adds one to a counter in the session (a write on every request);
// GET / reads the counter and changes nothing (no cookie is sent back).
import { createServer } from 'node:http';
import {
  Context,
  CookieSessionStore,
  EncryptingStoreDecorator,
  fromNodeRequest,
  fromNodeResponse,
  importRawKey,
  SessionManager,
  type CryptoPath,
} from 'kit-session';
import { announce, BENCH_KEY_BASE64, body } from './common.js';

interface Values {
  n: number;
}

const path = (process.argv[2] ?? 'auto') as CryptoPath;
const keys = [await importRawKey(BENCH_KEY_BASE64)];
const store = new EncryptingStoreDecorator<Values>(new CookieSessionStore<Values>(), { keys, crypto: path });
const manager = new SessionManager<Values>(store);

const server = createServer(async (request, response) => {
  try {
    const context = await manager.extractSession(Context.background, fromNodeRequest(request));
    let n = manager.getValue(context, 'n') ?? 0;
    if (request.url === '/incr') {
      n += 1;
      manager.setValue(context, 'n', n);
    }
    await manager.injectSession(context, fromNodeResponse(response));
    response.setHeader('content-type', 'application/json');
    response.end(body(n));
  } catch {
    response.statusCode = 500;
    response.end();
  }
});
server.listen(0, '127.0.0.1', () => announce(server));
