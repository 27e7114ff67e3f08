// Adapters benchmark: bare express 5, no session, the 1× of the express cases; GET /
// and GET /untouched answer alike.
import express from 'express';
import { announce, body } from './common.js';

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get(['/', '/untouched'], (_request, response) => {
  response.type('application/json').send(body(0));
});
const server = app.listen(0, '127.0.0.1', () => announce(server));
