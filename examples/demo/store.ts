// Where the demo keeps its sessions: an encrypted cookie. The key comes from
// SESSION_KEY; without it, a random key is made and a warning printed.

import { randomBytes } from 'node:crypto';
import {
  CookieSessionStore,
  EncryptingStoreDecorator,
  importRawKey,
  type SessionKey,
  type SessionStore,
} from 'kit-session';
import type { DemoSession } from './routes.js';

/** The store the demo runs on, and what to tell the person starting it. */
export interface DemoStore {
  readonly store: SessionStore<DemoSession>;
  /** Where sessions are kept, in words, for the page footer. */
  readonly description: string;
  /** Things to print before the server starts. */
  readonly warnings: readonly string[];
}

/**
 * Reads the session keys from `SESSION_KEY`: one base64 key (`openssl rand -base64 32`),
 * or several separated by commas to rotate keys (the first seals, all of them open).
 *
 * @param env - The environment.
 * @returns The keys, and a warning when a random key had to be made.
 * @throws TypeError when a key is not base64 of 16, 24 or 32 bytes (the message never
 *   holds the key).
 */
export async function loadKeys(env: NodeJS.ProcessEnv): Promise<{ keys: SessionKey[]; warnings: string[] }> {
  const listed = (env.SESSION_KEY ?? '').split(',').map((key) => key.trim()).filter((key) => key !== '');
  if (listed.length > 0) {
    return { keys: await Promise.all(listed.map((key) => importRawKey(key))), warnings: [] };
  }
  return {
    keys: [await importRawKey(randomBytes(32).toString('base64'))],
    warnings: [
      'SESSION_KEY is not set: using a random key, so sessions will not survive a restart. ' +
        'Set SESSION_KEY to the output of `openssl rand -base64 32` to keep them.',
    ],
  };
}

/**
 * Builds the demo's store: the cookie store, sealed with AES-GCM.
 *
 * @param env - The environment.
 * @param cookieName - The session cookie's name, bound into every seal.
 * @returns The store, its description and any warnings.
 * @throws TypeError when SESSION_KEY is not valid.
 */
export async function createDemoStore(env: NodeJS.ProcessEnv, cookieName: string): Promise<DemoStore> {
  const { keys, warnings } = await loadKeys(env);
  const store = new EncryptingStoreDecorator<DemoSession>(new CookieSessionStore<DemoSession>(), { keys, cookieName });
  return { store, description: 'an encrypted cookie (AES-GCM), not on the server', warnings };
}
