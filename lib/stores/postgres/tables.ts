// What the PostgreSQL session store and owner generations (kit-session/postgres) share:
// checked, quoted table names, the lock that guards creating a table, and errors scrubbed
// of session data.

/**
 * Where a table lives.
 *
 * @internal
 */
export interface TableName {
  /** The table's name, unquoted. */
  readonly table?: string;
  /** The table's schema, unquoted. */
  readonly schema?: string;
}

/** A letter or `_`, then letters, digits or `_`: at most 48 characters. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * A name checked and quoted for SQL.
 *
 * @internal
 * @param kind - What the name is, for the error (`'table'`, `'schema'`).
 * @param name - The name.
 * @returns The name in double quotes.
 * @throws TypeError when the name breaks the rules.
 */
export function identifier(kind: string, name: string): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new TypeError(`${kind} must be a letter or _, then letters, digits or _ (at most 48 characters)`);
  }
  return `"${name}"`;
}

/**
 * A table's name checked, quoted and qualified by its schema.
 *
 * @internal
 * @param options - The table's name and schema.
 * @param fallback - The name when `options.table` is unset.
 * @returns `table`: the quoted, qualified name for SQL; `name`: the bare name, for the
 *   names of its indexes.
 * @throws TypeError when a name breaks the rules.
 */
export function qualifiedTable(options: TableName, fallback: string): { table: string; name: string } {
  const name = options.table ?? fallback;
  const table = identifier('table', name);
  return { table: options.schema === undefined ? table : `${identifier('schema', options.schema)}.${table}`, name };
}

/**
 * Runs `sql` (statements separated by `;`) as one transaction behind an advisory lock
 * named after the table: `CREATE … IF NOT EXISTS` and `ADD COLUMN IF NOT EXISTS` are
 * not safe against themselves when two processes start at once on one database.
 *
 * @internal
 * @param table - The quoted, qualified table.
 * @param sql - The statements.
 * @returns One simple query (a single transaction).
 */
export function guardedCreate(table: string, sql: string): string {
  return `SELECT pg_advisory_xact_lock(hashtext('kit-session create ${table}'));\n${sql}`;
}

/**
 * PostgreSQL's errors about bad input quote the input in `detail` and `where` (for
 * jsonb, a piece of the session's values). Drops those, so that a logged `cause`
 * carries no session value; `code` (the SQLSTATE) and `message` stay.
 *
 * @internal
 * @param error - What node-postgres threw.
 * @returns The same error, without those fields.
 */
export function withoutData(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) {
    for (const field of ['detail', 'where', 'internalQuery'] as const) {
      if (field in error) {
        try {
          (error as Record<string, unknown>)[field] = undefined;
        } catch {
          // A frozen error keeps its field.
        }
      }
    }
  }
  return error;
}
