// kit-session/inversify-http: sessions for the controllers of Inversify's HTTP framework
// (`@inversifyjs/http-core` with `@inversifyjs/http-express` 5). Needs `inversify` 8,
// `reflect-metadata` and `@inversifyjs/http-core`, whose decorators it uses.
export { SessionInterceptor, SessionParam } from './SessionInterceptor.js';
