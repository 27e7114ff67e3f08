// kit-session/inversify-http: sessions for the controllers of Inversify's HTTP framework
// (`@inversifyjs/http-core` with `@inversifyjs/http-express` 5). Needs `inversify` 8,
// `reflect-metadata` and `@inversifyjs/http-core`, whose decorators it uses; it sits in
// lib/di because only lib/di knows Inversify, and runs the adapters' one lifecycle.
export { SessionInterceptor, SessionParam } from './SessionInterceptor.js';
