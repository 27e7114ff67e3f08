import {
  admitCall,
  clearIntentCall,
  deleteFollowingCall,
  deleteOwnedCall,
  indexCall,
  intentCall,
  patchCall,
  patchValuesCall,
  renewClaimCall,
  renewSettleCall,
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
  it('puts the key in KEYS[1]; px, expireTime, deadline, owner, meta and now in ARGV[1..6]; then the field/value pairs', () => {
    const fields = ['va', '1', 'vb', '"x"'];
    expect(
      setCall({ key: 'sess:h', px: 5000, expireTime: EXPIRE, deadline: DEADLINE, owner: 'ada', meta: '{"c":1}', now: NOW, fields }),
    ).toEqual({
      script: 'set',
      keys: ['sess:h'],
      args: [5000, String(EXPIRE), String(DEADLINE), '#ada', '#{"c":1}', String(NOW), 'va', '1', 'vb', '"x"'],
    });
  });

  it('sends no owner as the empty string, and the empty-string owner as "#"', () => {
    const base = { key: 'k', px: 1, expireTime: EXPIRE, deadline: DEADLINE, meta: undefined, now: NOW, fields: [] };
    expect(setCall({ ...base, owner: null }).args[3]).toBe('');
    expect(setCall({ ...base, owner: '' }).args[3]).toBe('#');
  });

  it('sends no metadata as the empty string, and empty metadata as "#"', () => {
    const base = { key: 'k', px: 1, expireTime: EXPIRE, deadline: DEADLINE, owner: null, now: NOW, fields: [] };
    expect(setCall({ ...base, meta: undefined }).args[4]).toBe('');
    expect(setCall({ ...base, meta: '' }).args[4]).toBe('#');
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
    meta: 'm',
    limited: true,
    set: ['va', '1', 'vb', '"x"'],
    unset: ['vc', 'vd', 've'],
  };

  it('puts now, px, expireTime, deadline, owner, indexed, meta, limited, the pair count in ARGV[1..9]; then pairs, deletions', () => {
    expect(patchCall(base)).toEqual({
      script: 'patch',
      keys: ['sess:h'],
      args: [
        ...[String(NOW), 5000, String(EXPIRE), String(DEADLINE), '#ada', '#bob', '#m', '1', 4],
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

  it('sends unchanged metadata as "=", and "not limited" as "0"', () => {
    expect(patchCall({ ...base, meta: undefined }).args[6]).toBe('=');
    expect(patchCall({ ...base, meta: '' }).args[6]).toBe('#');
    expect(patchCall({ ...base, limited: false }).args[7]).toBe('0');
  });

  it('counts no pairs when nothing is set, so every field after ARGV[9] is deleted', () => {
    expect(patchCall({ ...base, set: [], unset: ['vc'] }).args.slice(8)).toEqual([0, 'vc']);
  });

  it('sends px 0, which tells the script to delete the session', () => {
    expect(patchCall({ ...base, px: 0 }).args[1]).toBe(0);
  });
});

describe(patchValuesCall, () => {
  const base = {
    key: 'sess:h',
    now: NOW,
    px: 5000,
    expireTime: EXPIRE,
    deadline: DEADLINE,
    meta: undefined,
    set: ['va', '1', 'vb', '"x"'],
    unset: ['vc', 'vd', 've'],
  };

  it('puts now, px, expireTime, deadline, the pair count in ARGV[1..5]; then pairs, deletions', () => {
    expect(patchValuesCall(base)).toEqual({
      script: 'patchValues',
      keys: ['sess:h'],
      args: [...[String(NOW), 5000, String(EXPIRE), String(DEADLINE), 4], ...['va', '1', 'vb', '"x"'], ...['vc', 'vd', 've']],
    });
  });

  it('sends metadata, empty metadata too, as the first pair, field m, counted with the pairs', () => {
    expect(patchValuesCall({ ...base, meta: '{"c":1}' }).args.slice(4, 7)).toEqual([6, 'm', '{"c":1}']);
    expect(patchValuesCall({ ...base, meta: '' }).args.slice(4, 7)).toEqual([6, 'm', '']);
  });

  it('counts no pairs when nothing is set, so every field after ARGV[5] is deleted', () => {
    expect(patchValuesCall({ ...base, set: [], unset: ['vc'] }).args.slice(4)).toEqual([0, 'vc']);
  });

  it('sends px 0, which tells the script to delete the session', () => {
    expect(patchValuesCall({ ...base, px: 0 }).args[1]).toBe(0);
  });
});

describe(indexCall, () => {
  it("puts the owner's set in KEYS[1]; the hash, deadline, prune bound, ttl and the entry it replaces in ARGV[1..5]", () => {
    expect(
      indexCall({ key: 'sess:owner:ada', hash: 'h', deadline: DEADLINE, pruneUpTo: NOW, ttl: 61_000, replaces: 'old' }),
    ).toEqual({
      script: 'index',
      keys: ['sess:owner:ada'],
      args: ['h', String(DEADLINE), String(NOW), 61_000, 'old'],
    });
  });

  it('sends "replaces nothing" as the empty string', () => {
    expect(indexCall({ key: 'k', hash: 'h', deadline: DEADLINE, pruneUpTo: NOW, ttl: 1 }).args[4]).toBe('');
  });
});

describe(deleteOwnedCall, () => {
  it('puts the key in KEYS[1]; the owner, now, the grace time and follow in ARGV[1..4]', () => {
    expect(deleteOwnedCall({ key: 'sess:h', owner: 'ada', now: NOW, grace: 65_000, follow: true })).toEqual({
      script: 'deleteOwned',
      keys: ['sess:h'],
      args: ['ada', String(NOW), 65_000, '1'],
    });
  });

  it("sends 'not an unsettled renewal's successor' as the empty string", () => {
    expect(deleteOwnedCall({ key: 'k', owner: 'ada', now: NOW, grace: 1 }).args[3]).toBe('');
  });
});

describe(renewClaimCall, () => {
  it("puts the old session's key in KEYS[1]; now, the successor's hash, the claim's end and its owner in ARGV[1..4]", () => {
    expect(renewClaimCall({ key: 'sess:old', now: NOW, successor: 'new', until: EXPIRE, owner: 'ada' })).toEqual({
      script: 'renewClaim',
      keys: ['sess:old'],
      args: [String(NOW), 'new', String(EXPIRE), '#ada'],
    });
  });

  it('sends no owner as the empty string, and the empty-string owner as "#"', () => {
    const base = { key: 'k', now: NOW, successor: 'new', until: EXPIRE };
    expect(renewClaimCall({ ...base, owner: undefined }).args[3]).toBe('');
    expect(renewClaimCall({ ...base, owner: '' }).args[3]).toBe('#');
  });
});

describe(renewSettleCall, () => {
  it("puts the old session's key in KEYS[1]; the successor's hash, the outcome, now, the grace's end and the key's least life in ARGV[1..5]", () => {
    expect(
      renewSettleCall({ key: 'sess:old', successor: 'new', outcome: 'commit', now: NOW, until: EXPIRE, keep: 65_000 }),
    ).toEqual({
      script: 'renewSettle',
      keys: ['sess:old'],
      args: ['new', 'commit', String(NOW), String(EXPIRE), 65_000],
    });
  });
});

describe(intentCall, () => {
  it('puts the key in KEYS[1]; the owner, the grace time and now in ARGV[1..3]', () => {
    expect(intentCall({ key: 'sess:h', owner: 'ada', grace: 65_000, now: NOW })).toEqual({
      script: 'intent',
      keys: ['sess:h'],
      args: ['ada', 65_000, String(NOW)],
    });
  });
});

describe(clearIntentCall, () => {
  it('puts the key in KEYS[1] and the owner in ARGV[1]', () => {
    expect(clearIntentCall({ key: 'sess:h', owner: 'ada' })).toEqual({ script: 'clearIntent', keys: ['sess:h'], args: ['ada'] });
  });
});

describe(admitCall, () => {
  it('puts the set in KEYS[1]; the fixed fields and both counts in ARGV[1..9]; then dead, uncounted and written entries', () => {
    expect(
      admitCall({
        key: 'sess:owner:ada',
        hash: 'h',
        deadline: DEADLINE,
        pruneUpTo: NOW,
        ttl: 61_000,
        max: 3,
        policy: 'evict',
        alreadyScore: '5.5',
        dead: [{ hash: 'd1', score: '1' }],
        uncounted: [{ hash: 'u1', score: '2' }, { hash: 'u2', score: '3' }],
        written: [{ hash: 'w1', writeTime: EXPIRE }],
      }),
    ).toEqual({
      script: 'admit',
      keys: ['sess:owner:ada'],
      args: [
        ...['h', String(DEADLINE), String(NOW), 61_000, 3, 'evict', '5.5', 1, 2],
        ...['d1', '1'],
        ...['u1', '2', 'u2', '3'],
        ...['w1', String(EXPIRE)],
      ],
    });
  });

  it("sends 'not the owner's already' as the empty string", () => {
    const input = { key: 'k', hash: 'h', deadline: DEADLINE, pruneUpTo: NOW, ttl: 1, max: 1, policy: 'refuse' as const };
    expect(admitCall({ ...input, alreadyScore: undefined, dead: [], uncounted: [], written: [] }).args[6]).toBe('');
  });
});

describe('SCRIPTS', () => {
  // With no value fields, a builder sends exactly the numbered slots its script reads.
  const fixed: Record<ScriptName, number> = {
    set: setCall({ key: 'k', px: 1, expireTime: EXPIRE, deadline: DEADLINE, owner: null, meta: undefined, now: NOW, fields: [] })
      .args.length,
    patch: patchCall({
      key: 'k',
      now: NOW,
      px: 1,
      expireTime: EXPIRE,
      deadline: DEADLINE,
      owner: undefined,
      indexed: undefined,
      meta: undefined,
      limited: false,
      set: [],
      unset: [],
    }).args.length,
    patchValues: patchValuesCall({
      key: 'k',
      now: NOW,
      px: 1,
      expireTime: EXPIRE,
      deadline: DEADLINE,
      meta: undefined,
      set: [],
      unset: [],
    }).args.length,
    index: indexCall({ key: 'k', hash: 'h', deadline: DEADLINE, pruneUpTo: NOW, ttl: 1 }).args.length,
    deleteOwned: deleteOwnedCall({ key: 'k', owner: 'ada', now: NOW, grace: 1 }).args.length,
    deleteFollowing: deleteFollowingCall({ key: 'k', now: NOW, grace: 1 }).args.length,
    renewClaim: renewClaimCall({ key: 'k', now: NOW, successor: 'h', until: EXPIRE, owner: undefined }).args.length,
    renewSettle: renewSettleCall({ key: 'k', successor: 'h', outcome: 'drop', now: NOW, until: NOW, keep: 1 }).args.length,
    intent: intentCall({ key: 'k', owner: 'ada', grace: 1, now: NOW }).args.length,
    clearIntent: clearIntentCall({ key: 'k', owner: 'ada' }).args.length,
    admit: admitCall({
      key: 'k',
      hash: 'h',
      deadline: DEADLINE,
      pruneUpTo: NOW,
      ttl: 1,
      max: 1,
      policy: 'refuse',
      alreadyScore: undefined,
      dead: [],
      uncounted: [],
      written: [],
    }).args.length,
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
