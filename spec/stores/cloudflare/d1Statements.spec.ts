import { d1SessionStatements, jsonPath, MAX_PATCH_PARAMETERS, parameterSuffix } from '../../../lib/stores/cloudflare/d1Statements.js';

describe('d1Statements', () => {
  it('names each index with letters only, every name distinct', () => {
    expect([0, 1, 25, 26, 27].map(parameterSuffix)).toEqual(['a', 'b', 'z', 'ba', 'bb']);
    const names = Array.from({ length: 1000 }, (_, i) => parameterSuffix(i));
    expect(new Set(names).size).toBe(1000);
    expect(names.every((name) => /^[a-z]+$/.test(name))).toBe(true);
  });

  it('quotes a key as a JSON path, and names none it cannot name exactly', () => {
    expect(jsonPath('a.b[0]')).toBe('$."a.b[0]"');
    expect(jsonPath('')).toBe('$.""');
    expect(jsonPath('🔑 key')).toBe('$."🔑 key"');
    for (const key of ['say "hi"', 'back\\slash', 'nul\u0000', 'lone\ud800', '\udc00']) {
      expect(jsonPath(key)).toBeUndefined();
    }
  });

  it('binds at most 100 parameters in a SQL patch of the most values it takes', () => {
    const sql = d1SessionStatements('"t"');
    const sets = MAX_PATCH_PARAMETERS / 2;
    expect(sql.jsonPatch(sets, 0).names.length).toBeLessThanOrEqual(100);
    expect(sql.jsonPatch(0, MAX_PATCH_PARAMETERS).names.length).toBeLessThanOrEqual(100);
    for (const compiled of [sql.evict, sql.patch, sql.probe, sql.renewSet, sql.renewRetire, sql.setBounded]) {
      expect(compiled.names.length).toBeLessThanOrEqual(100);
    }
  });
});
