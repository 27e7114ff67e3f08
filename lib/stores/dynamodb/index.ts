// kit-session/dynamodb: sessions in a DynamoDB table through @aws-sdk/client-dynamodb.
export type { DynamoDbSessionStoreOptions } from './DynamoDbSessionStore.js';
export { DEFAULT_DYNAMODB_TABLE, DynamoDbSessionStore } from './DynamoDbSessionStore.js';
export type { DynamoDbOwnerGenerationsOptions } from './DynamoDbOwnerGenerations.js';
export { DynamoDbOwnerGenerations } from './DynamoDbOwnerGenerations.js';
