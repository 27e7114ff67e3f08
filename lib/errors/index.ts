export type { SessionErrorCode } from './SessionError.js';
export {
  SessionCookieTooLargeError,
  SessionError,
  SessionHeadersSentError,
  SessionNotLoadedError,
  SessionStoreError,
} from './SessionError.js';
