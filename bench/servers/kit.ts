// kit-session on node:http with an encrypted cookie (`EncryptingStoreDecorator` over
// `CookieSessionStore`), running the counter of kitCounter.ts.
//
//   node kit.js <auto|webcrypto>
import { createServer } from 'node:http';
import { CookieSessionStore, EncryptingStoreDecorator, importRawKey, SessionManager, type CryptoPath } from 'kit-session';
import { announce, BENCH_KEY_BASE64 } from './common.js';
import { kitCounter, type CounterValues } from './kitCounter.js';

const path = (process.argv[2] ?? 'auto') as CryptoPath;
const keys = [await importRawKey(BENCH_KEY_BASE64)];
const store = new EncryptingStoreDecorator<CounterValues>(new CookieSessionStore<CounterValues>(), { keys, crypto: path });
const manager = new SessionManager<CounterValues>(store);

const server = createServer(kitCounter(manager));
server.listen(0, '127.0.0.1', () => announce(server));
