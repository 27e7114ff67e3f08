// What the Redis classes of `kit-session/redis` share about their clients' errors
// (internal). node-redis's errors carry the server's reply text and nothing of the
// command; ioredis's carry the command's arguments, which this removes.

/**
 * ioredis puts the command's arguments on the errors it rejects with
 * (`error.command.args`), and those hold keys (a session's hash, an owner) and the
 * session's values. Keep the command's name only, so that a logged `cause` carries
 * neither.
 *
 * @internal
 * @param error - What ioredis rejected with.
 * @returns The same error, without the command's arguments.
 */
export function withoutArguments(error: unknown): unknown {
  if (typeof error === 'object' && error !== null && 'command' in error) {
    const { command } = error as { command?: { name?: unknown } };
    try {
      (error as { command?: unknown }).command = { name: command?.name };
    } catch {
      // A frozen error keeps its property; the message never had the token anyway.
    }
  }
  return error;
}
