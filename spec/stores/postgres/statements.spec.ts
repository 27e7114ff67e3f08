import {
  boundedPatchArgs,
  boundedRenewArgs,
  boundedSetArgs,
  deleteArgs,
  deleteByHandleArgs,
  deleteExpiredArgs,
  deleteOwnerArgs,
  getArgs,
  listArgs,
  lockOwnerSql,
  patchArgs,
  renewArgs,
  servedArgs,
  sessionStatements,
  setArgs,
  tableSql,
  type SessionStatements,
} from '../../../lib/stores/postgres/statements.js';

// Each builder is checked with a distinct value in every field, so a field moved to
// another parameter fails here, not only against a real PostgreSQL; and each statement
// reads exactly the parameters its builder sends (PostgreSQL refuses a parameter it
// cannot type, one the statement never reads).

const NOW = 1_700_000_000_001;
const EXPIRE = 1_700_000_000_002;
const DEADLINE = 1_700_000_000_003;
const statements = sessionStatements('"s"."t"');

/** The parameters a statement reads (`$3`), sorted, each once. */
function slots(sql: string): number[] {
  const found = new Set([...sql.matchAll(/\$(\d+)/g)].map((match) => Number(match[1])));
  return [...found].sort((a, b) => a - b);
}

/** 1..n */
function upTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

const write = { token: 'old', now: NOW, values: '{"a":1}', expireTime: EXPIRE, deadline: DEADLINE, owner: 'ada', meta: 'm' };
const patch = { token: 'tok', now: NOW, set: '{"b":2}', unset: ['c'], expireTime: EXPIRE, deadline: DEADLINE, owner: 'ada', meta: 'm' };
const renewal = { ...write, newToken: 'new', grace: 30_000 };
const bound = { max: 5, evict: true };

const cases: [keyof SessionStatements, unknown[]][] = [
  ['get', getArgs('tok')],
  ['served', servedArgs({ token: 'tok', now: NOW })],
  ['set', setArgs(write)],
  ['patch', patchArgs(patch)],
  ['renew', renewArgs(renewal)],
  ['delete', deleteArgs('tok', NOW)],
  ['deleteOwner', deleteOwnerArgs({ owner: 'ada', now: NOW, keep: null })],
  ['deleteExpired', deleteExpiredArgs(NOW)],
  ['list', listArgs({ owner: 'ada', now: NOW })],
  ['deleteByHandle', deleteByHandleArgs({ handle: 'h', now: NOW, owner: 'ada' })],
  ['boundedSet', boundedSetArgs({ ...write, ...bound })],
  ['boundedPatch', boundedPatchArgs({ ...patch, ...bound })],
  ['boundedRenew', boundedRenewArgs({ ...renewal, ...bound })],
];

describe(sessionStatements, () => {
  it.each(cases)('%s reads exactly the parameters its builder sends', (name, args) => {
    expect(slots(statements[name])).toEqual(upTo(args.length));
  });

  it('has a builder checked here for every statement', () => {
    expect(cases.map(([name]) => name).sort()).toEqual(Object.keys(statements).sort());
  });

  it('every statement that reads an owner\'s sessions, or writes into a session, reads only rows of their own (successor IS NULL)', () => {
    for (const name of ['patch', 'renew', 'deleteOwner', 'list', 'boundedSet', 'boundedPatch', 'boundedRenew'] as const) {
      expect({ name, own: statements[name].includes('successor IS NULL') }).toEqual({ name, own: true });
    }
  });
});

describe(setArgs, () => {
  it('sends token, now, values, expiry, deadline, owner and meta as $1..$7; the bound as $8, $9', () => {
    expect(boundedSetArgs({ ...write, ...bound })).toEqual(['old', NOW, '{"a":1}', EXPIRE, DEADLINE, 'ada', 'm', 5, true]);
  });
});

describe(patchArgs, () => {
  it('sends token, now, set, unset, expiry, deadline, owner, whether it is given, and meta as $1..$9; the bound as $10, $11', () => {
    expect(boundedPatchArgs({ ...patch, ...bound })).toEqual(['tok', NOW, '{"b":2}', ['c'], EXPIRE, DEADLINE, 'ada', true, 'm', 5, true]);
  });

  it('sends an owner left alone as null, not given; a cleared one as null, given', () => {
    expect(patchArgs({ ...patch, owner: undefined }).slice(6, 8)).toEqual([null, false]);
    expect(patchArgs({ ...patch, owner: null }).slice(6, 8)).toEqual([null, true]);
  });
});

describe(renewArgs, () => {
  it('sends the old token, now, the new token, values, expiry, deadline, owner, meta and grace as $1..$9; the bound as $10, $11', () => {
    expect(boundedRenewArgs({ ...renewal, ...bound })).toEqual([
      'old',
      NOW,
      'new',
      '{"a":1}',
      EXPIRE,
      DEADLINE,
      'ada',
      'm',
      30_000,
      5,
      true,
    ]);
  });
});

describe(lockOwnerSql, () => {
  it('opens the transaction and takes the owner\'s lock, holding a number, never the owner', () => {
    const sql = lockOwnerSql('"t"', "ada'; DROP TABLE t; --");
    expect(sql).toMatch(/^BEGIN; SELECT pg_advisory_xact_lock\(hashtext\('kit-session owner "t"'\), -?\d+\)$/);
    expect(lockOwnerSql('"t"', 'ada')).toBe(lockOwnerSql('"t"', 'ada'));
  });
});

describe(tableSql, () => {
  it('adds the columns a table made by an earlier version lacks, only when one is missing', () => {
    const sql = tableSql({ table: '"t"', name: 't' });
    expect(sql).toContain("attname IN ('meta', 'write_time', 'successor') AND NOT attisdropped) < 3 THEN");
    expect(sql).toContain('ADD COLUMN IF NOT EXISTS successor text;');
  });
});
