// kit-session/di: the Inversify container module and the annotations of the classes.
// Needs `inversify` 8 and `reflect-metadata`; nothing else in kit-session does, but the
// controllers' interceptor of kit-session/inversify-http (./inversify-http/).
import './annotations.js';

export type { SessionModuleOptions } from './createSessionModule.js';
export { createSessionModule } from './createSessionModule.js';
export {
  SESSION_CLOCK,
  SESSION_COOKIE_STORE_OPTIONS,
  SESSION_ENCRYPTION_OPTIONS,
  SESSION_INNER_STORE,
  SESSION_MANAGER,
  SESSION_MANAGER_OPTIONS,
  SESSION_MEMORY_STORE_OPTIONS,
  SESSION_REQUEST_HOOK,
  SESSION_RESPONSE_HOOK,
  SESSION_STORE,
} from './identifiers.js';
