/**
 * The Inversify annotations of kit-session's injectable classes, applied from outside
 * the classes (Inversify's `decorate`), so that the classes themselves import nothing
 * of Inversify and an app that builds them with `new` needs neither `inversify` nor
 * `reflect-metadata`. Importing `kit-session/di` applies them once.
 *
 * @internal
 */
import 'reflect-metadata';
import { decorate, inject, injectable, optional } from 'inversify';
import { SessionManager } from '../core/SessionManager.js';
import { EncryptingStoreDecorator } from '../crypto/EncryptingStoreDecorator.js';
import { CookieSessionStore } from '../stores/CookieSessionStore.js';
import { MemorySessionStore } from '../stores/MemorySessionStore.js';
import {
  SESSION_CLOCK,
  SESSION_COOKIE_STORE_OPTIONS,
  SESSION_ENCRYPTION_OPTIONS,
  SESSION_INNER_STORE,
  SESSION_MANAGER,
  SESSION_MANAGER_OPTIONS,
  SESSION_MEMORY_STORE_OPTIONS,
  SESSION_STORE,
} from './identifiers.js';
import { SessionRequestHook } from './SessionRequestHook.js';
import { SessionResponseHook } from './SessionResponseHook.js';

/** One constructor parameter: the identifier it is injected from, and whether it may be unbound. */
type Parameter = readonly [identifier: symbol, optional?: 'optional'];

/** Each injectable class with its constructor's parameters, in order. */
const INJECTABLE: readonly (readonly [Function, readonly Parameter[]])[] = [
  [SessionManager, [[SESSION_STORE], [SESSION_MANAGER_OPTIONS, 'optional'], [SESSION_CLOCK, 'optional']]],
  [CookieSessionStore, [[SESSION_COOKIE_STORE_OPTIONS, 'optional'], [SESSION_CLOCK, 'optional']]],
  [MemorySessionStore, [[SESSION_MEMORY_STORE_OPTIONS, 'optional'], [SESSION_CLOCK, 'optional']]],
  [EncryptingStoreDecorator, [[SESSION_INNER_STORE], [SESSION_ENCRYPTION_OPTIONS], [SESSION_CLOCK, 'optional']]],
  [SessionRequestHook, [[SESSION_MANAGER]]],
  [SessionResponseHook, [[SESSION_MANAGER]]],
];

for (const [target, parameters] of INJECTABLE) {
  parameters.forEach(([identifier, isOptional], index) => {
    decorate(isOptional === undefined ? inject(identifier) : [inject(identifier), optional()], target, index);
  });
  decorate(injectable(), target);
}
