// What the DynamoDB store and generations share about DynamoDB's answers (internal): which
// error a condition failure is, the SDK's error scrubbed of anything it quoted, and
// DynamoDB's rule for table names.

/**
 * Whether an error is the SDK's of that name: by name, not `instanceof`, so that an app's
 * client from another copy of the SDK is understood too.
 */
export function named(error: unknown, name: string): boolean {
  return (error as { name?: unknown } | null)?.name === name;
}

/** Whether a write's condition failed. */
export function isConditionFailure(error: unknown): boolean {
  return named(error, 'ConditionalCheckFailedException');
}

/**
 * The SDK's error without anything it quoted: its name and HTTP status,
 * never its message (a `ValidationException` may quote an attribute value).
 */
export function scrubError(error: unknown): unknown {
  const source = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown; requestId?: unknown } } | null;
  const name = typeof source?.name === 'string' ? source.name : 'Error';
  const scrubbed = new Error(`DynamoDB answered ${name}`);
  scrubbed.name = name;
  const status = source?.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    (scrubbed as Error & { statusCode?: number }).statusCode = status;
  }
  return scrubbed;
}

/** DynamoDB's rule for table names. */
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/** Checks a table option: DynamoDB's rule for table names. */
export function checkTable(table: unknown): string {
  if (typeof table !== 'string' || !TABLE_NAME.test(table)) {
    throw new TypeError('table must be 3 to 255 characters of letters, digits, _, - and .');
  }
  return table;
}
