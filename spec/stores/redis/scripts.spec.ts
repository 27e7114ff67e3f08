import {
  deleteOwnedCall,
  indexCall,
  patchCall,
  SCRIPTS,
  setCall,
  type ScriptName,
} from '../../../lib/stores/redis/scripts.js';

// Each builder is checked with a distinct value in every field, so a field moved to
// another ARGV slot fails here, not only against a real Redis.

const NOW = 1_700_000_000_001;
const EXPIRE = 1_700_000_000_002;
const DEADLINE = 1_700_000_000_003;

/** The ARGV slots a script's Lua reads by number (`ARGV[3]`), sorted, each once. */
function argvSlots(lua: string): number[] {
  const slots = new Set([...lua.matchAll(/ARGV\[(\d+)\]/g)].map((match) => Number(match[1])));
  return [...slots].sort((a, b) => a - b);
}

/** 1..n */
function upTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

describe(setCall, () => {
  it('puts the key in KEYS[1]; px, expireTime, deadline and owner in ARGV[1..4]; then the field/value pairs', () => {
    const fields = ['va', '1', 'vb', '"x"'];
    expect(setCall({ key: 'sess:h', px: 5000, expireTime: EXPIRE, deadline: DEADLINE, owner: 'ada', fields })).toEqual({
      script: 'set',
      keys: ['sess:h'],
      args: [5000, String(EXPIRE), String(DEADLINE), '#ada', 'va', '1', 'vb', '"x"'],
    });
  });

  it('sends no owner as the empty string, and the empty-string owner as "#"', () => {
    const base = { key: 'k', px: 1, expireTime: EXPIRE, deadline: DEADLINE, fields: [] };
    expect(setCall({ ...base, owner: null }).args[3]).toBe('');
    expect(setCall({ ...base, owner: '' }).args[3]).toBe('#');
  });
});

describe(patchCall, () => {
  const base = {
    key: 'sess:h',
    now: NOW,
    px: 5000,
    expireTime: EXPIRE,
    deadline: DEADLINE,
    owner: 'ada',
    indexed: 'bob',
    set: ['va', '1', 'vb', '"x"'],
    unset: ['vc', 'vd', 've'],
  };

  it('puts now, px, expireTime, deadline, owner, indexed, the pair count in ARGV[1..7]; then pairs, deletions', () => {
    expect(patchCall(base)).toEqual({
      script: 'patch',
      keys: ['sess:h'],
      args: [
        ...[String(NOW), 5000, String(EXPIRE), String(DEADLINE), '#ada', '#bob', 4],
        ...['va', '1', 'vb', '"x"'],
        ...['vc', 'vd', 've'],
      ],
    });
  });

  it('sends an unchanged owner as "=", no owner as the empty string, and the empty-string owner as "#"', () => {
    expect(patchCall({ ...base, owner: undefined }).args[4]).toBe('=');
    expect(patchCall({ ...base, owner: null }).args[4]).toBe('');
    expect(patchCall({ ...base, owner: '' }).args[4]).toBe('#');
  });

  it('sends "not indexed" as the empty string, and the empty-string owner indexed as "#"', () => {
    expect(patchCall({ ...base, indexed: undefined }).args[5]).toBe('');
    expect(patchCall({ ...base, indexed: '' }).args[5]).toBe('#');
  });

  it('counts no pairs when nothing is set, so every field after ARGV[7] is deleted', () => {
    expect(patchCall({ ...base, set: [], unset: ['vc'] }).args.slice(6)).toEqual([0, 'vc']);
  });

  it('sends px 0, which tells the script to delete the session', () => {
    expect(patchCall({ ...base, px: 0 }).args[1]).toBe(0);
  });
});

describe(indexCall, () => {
  it("puts the owner's set in KEYS[1]; the hash, deadline, prune bound and ttl in ARGV[1..4]", () => {
    expect(indexCall({ key: 'sess:owner:ada', hash: 'h', deadline: DEADLINE, pruneUpTo: NOW, ttl: 61_000 })).toEqual({
      script: 'index',
      keys: ['sess:owner:ada'],
      args: ['h', String(DEADLINE), String(NOW), 61_000],
    });
  });
});

describe(deleteOwnedCall, () => {
  it('puts the key in KEYS[1]; the owner and now in ARGV[1..2]', () => {
    expect(deleteOwnedCall({ key: 'sess:h', owner: 'ada', now: NOW })).toEqual({
      script: 'deleteOwned',
      keys: ['sess:h'],
      args: ['ada', String(NOW)],
    });
  });
});

describe('SCRIPTS', () => {
  // With no value fields, a builder sends exactly the numbered slots its script reads.
  const fixed: Record<ScriptName, number> = {
    set: setCall({ key: 'k', px: 1, expireTime: EXPIRE, deadline: DEADLINE, owner: null, fields: [] }).args.length,
    patch: patchCall({
      key: 'k',
      now: NOW,
      px: 1,
      expireTime: EXPIRE,
      deadline: DEADLINE,
      owner: undefined,
      indexed: undefined,
      set: [],
      unset: [],
    }).args.length,
    index: indexCall({ key: 'k', hash: 'h', deadline: DEADLINE, pruneUpTo: NOW, ttl: 1 }).args.length,
    deleteOwned: deleteOwnedCall({ key: 'k', owner: 'ada', now: NOW }).args.length,
  };

  it.each(Object.keys(SCRIPTS) as ScriptName[])(
    'the %s script reads ARGV[1] to ARGV[n], n being what its builder sends before any value fields',
    (name) => {
      expect(argvSlots(SCRIPTS[name])).toEqual(upTo(fixed[name]));
    },
  );

  it.each(Object.keys(SCRIPTS) as ScriptName[])('the %s script touches KEYS[1] only', (name) => {
    const keys = new Set([...SCRIPTS[name].matchAll(/KEYS\[(\d+)\]/g)].map((match) => match[1]));
    expect([...keys]).toEqual(['1']);
  });
});
