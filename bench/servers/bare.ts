// Case (a): bare node:http answering the same small JSON as every other server, on
// every path (GET /, GET /untouched).
import { createServer } from 'node:http';
import { announce, body } from './common.js';

const server = createServer((_request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(body(0));
});
server.listen(0, '127.0.0.1', () => announce(server));
