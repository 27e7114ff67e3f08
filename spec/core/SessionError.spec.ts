import {
  SessionCookieTooLargeError,
  SessionError,
  SessionGenerationsLostError,
  SessionNotLoadedError,
  SessionStoreError,
  SessionValueError,
} from 'kit-session';

describe(SessionError, () => {
  it.each([
    [SessionError, 'ERR_SESSION'],
    [SessionNotLoadedError, 'ERR_SESSION_NOT_LOADED'],
    [SessionStoreError, 'ERR_SESSION_STORE'],
    [SessionValueError, 'ERR_SESSION_VALUE'],
    [SessionGenerationsLostError, 'ERR_SESSION_GENERATIONS_LOST'],
  ] as const)('%p carries its code and name, and is a SessionError', (ErrorClass, code) => {
    const error = new ErrorClass('message');
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(ErrorClass.name);
  });

  it('a SessionGenerationsLostError is a SessionStoreError, so a handler of store failures answers it too', () => {
    expect(new SessionGenerationsLostError('lost')).toBeInstanceOf(SessionStoreError);
  });

  it('keeps its cause', () => {
    const cause = new Error('socket closed');
    expect(new SessionStoreError('store failed', { cause }).cause).toBe(cause);
  });

  describe(SessionCookieTooLargeError, () => {
    it('carries the size and the limit', () => {
      const error = new SessionCookieTooLargeError(5000, 4096);
      expect(error.code).toBe('ERR_SESSION_COOKIE_TOO_LARGE');
      expect(error.size).toBe(5000);
      expect(error.limit).toBe(4096);
      expect(error).toBeInstanceOf(SessionError);
    });
  });
});
