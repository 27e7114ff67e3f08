import { MemorySessionStore } from 'kit-session';
import { describeManagerScenarios } from '../support/services.js';

// Points 3, 4 and 5 of the server-side store issue, for the memory store: the same
// manager-level scenarios the Redis and PostgreSQL suites run.
describeManagerScenarios('MemorySessionStore', () => ({ store: new MemorySessionStore() }));
