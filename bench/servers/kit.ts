// kit-session on node:http with an encrypted cookie, used as the README shows
// (`createCookieSessions`, `withSession` of kit-session/node), running the counter of
// kitCounter.ts on the session of common.ts.
//
//   node kit.js <auto|webcrypto>
import { createServer } from 'node:http';
import { createCookieSessions, importRawKey, type CryptoPath } from 'kit-session';
import { announce, BENCH_KEY_BASE64, type BenchSession } from './common.js';
import { kitCounter } from './kitCounter.js';

const crypto = (process.argv[2] ?? 'auto') as CryptoPath;
const manager = createCookieSessions<BenchSession>({ keys: [await importRawKey(BENCH_KEY_BASE64)], crypto });

const server = createServer(kitCounter(manager));
server.listen(0, '127.0.0.1', () => announce(server));
