import { bind, sessionStatements, statement } from '../../../lib/stores/sqlite/statements.js';

describe('SQLite statements', () => {
  it('compile :name parameters into anonymous ? with their names in order, a name used twice bound twice', () => {
    const compiled = statement('SELECT a FROM t WHERE x = :now AND y > :now AND z = :token');
    expect(compiled).toEqual({ sql: 'SELECT a FROM t WHERE x = ? AND y > ? AND z = ?', names: ['now', 'now', 'token'] });
    expect(bind(compiled, { now: 5, token: 't' })).toEqual([5, 5, 't']);
    expect(bind(compiled, { now: 5, token: null })).toEqual([5, 5, null]);
  });

  it('refuse to bind when a parameter has no value (a bug in the store), with TypeError', () => {
    expect(() => bind(statement('SELECT :a'), {})).toThrow(TypeError);
  });

  it('hold no : left over, and compare times with the store clock, never SQLite\'s', () => {
    for (const [name, compiled] of Object.entries(sessionStatements('"t"'))) {
      expect({ name, colon: compiled.sql.includes(':') }).toEqual({ name, colon: false });
      expect(compiled.sql).not.toMatch(/unixepoch|julianday|'now'|CURRENT_TIMESTAMP/i);
    }
  });
});
