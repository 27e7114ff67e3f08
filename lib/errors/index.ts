export type { SessionErrorCode } from './SessionError.js';
export {
  SessionCookieTooLargeError,
  SessionError,
  SessionHeadersSentError,
  SessionNotLoadedError,
  SessionStoreError,
  SessionValueError,
} from './SessionError.js';
