export type { SessionErrorCode } from './SessionError.js';
export {
  SessionCookieTooLargeError,
  SessionError,
  SessionNotLoadedError,
  SessionStoreError,
} from './SessionError.js';
