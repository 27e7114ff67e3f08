// The floor of an AES-GCM cookie on node:crypto over node:http: the counter on the
// session of common.ts, the cookie by hand (rawCookie.ts). GET /incr fills a fresh
// session and adds one; GET / reads it.
import { createServer } from 'node:http';
import { announce, body, newSession } from './common.js';
import { openCookie, sealedHeaders } from './rawCookie.js';

const server = createServer((request, response) => {
  let values = openCookie(request.headers.cookie);
  let n = values?.n ?? 0;
  if (request.url === '/incr') {
    values ??= newSession();
    n += 1;
    values.n = n;
    for (const [name, value] of sealedHeaders(values)) {
      response.setHeader(name, value);
    }
  }
  response.setHeader('content-type', 'application/json');
  response.end(body(n));
});
server.listen(0, '127.0.0.1', () => announce(server));
