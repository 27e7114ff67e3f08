import { generationsStatements, qualifiedTable, sessionStatements, tableSql, withoutData } from '../../../lib/stores/mysql/statements.js';

// The pieces of the MySQL statements that need no server: table names, the scrubbing of
// errors, and that no statement reads the server's clock.

describe('MySQL statements', () => {
  describe(qualifiedTable, () => {
    it('quotes a table in backticks, qualified by its database', () => {
      expect(qualifiedTable({}, 'sessions')).toBe('`sessions`');
      expect(qualifiedTable({ table: 't', database: 'd' }, 'sessions')).toBe('`d`.`t`');
    });

    it.each(['a`b', 'a b', '1a', '', 's'.repeat(49), 'a.b'])('rejects %j with TypeError', (name) => {
      expect(() => qualifiedTable({ table: name }, 'sessions')).toThrow(TypeError);
      expect(() => qualifiedTable({ database: name }, 'sessions')).toThrow(TypeError);
    });
  });

  it('no statement reads the server clock: every time is a parameter', () => {
    const all = [tableSql('`t`'), ...Object.values(sessionStatements('`t`', 4)), ...Object.values(generationsStatements('`g`'))];
    for (const sql of all) {
      expect(sql).not.toMatch(/NOW\(|CURRENT_TIMESTAMP|UNIX_TIMESTAMP|SYSDATE/i);
    }
  });

  it('the renewal chain is followed at most the given number of steps', () => {
    expect(sessionStatements('`t`', 4).chain).toContain('chain.step < 4');
  });

  describe(withoutData, () => {
    it("drops the statement mysql2 keeps in `sql` and every quoted piece of the messages", () => {
      const error = Object.assign(new Error("Duplicate entry 'secret-token' for key 'PRIMARY'"), {
        code: 'ER_DUP_ENTRY',
        errno: 1062,
        sql: "INSERT INTO `t` VALUES ('secret-token', '{\"a\":1}')",
        sqlMessage: "Duplicate entry 'secret-token' for key 'PRIMARY'",
      });
      const scrubbed = withoutData(error) as typeof error;
      expect(scrubbed).toBe(error);
      expect(scrubbed.sql).toBeUndefined();
      expect(scrubbed.code).toBe('ER_DUP_ENTRY');
      expect(scrubbed.errno).toBe(1062);
      expect(JSON.stringify({ ...scrubbed, message: scrubbed.message, stack: scrubbed.stack })).not.toContain('secret-token');
    });

    it('scrubs an escaped quote inside a quoted value too', () => {
      const error = new Error("Incorrect string value: 'it\\'s secret' for column 'meta'");
      expect((withoutData(error) as Error).message).not.toContain('secret');
    });

    it('leaves what is not an object, and a frozen error, as they are', () => {
      expect(withoutData('text')).toBe('text');
      const frozen = Object.freeze(Object.assign(new Error('x'), { sql: 'SELECT 1' }));
      expect(() => withoutData(frozen)).not.toThrow();
    });
  });
});
