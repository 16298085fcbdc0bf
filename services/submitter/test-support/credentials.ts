/**
 * The submitter's client of the credentials service, its profile cache and its event reader, for
 * tests outside the submitter that start the real credentials service (tests/submitter-credentials).
 */
export {
  type CredentialEventsReader,
  createCredentialEventsReader,
  SUBMITTER_CREDENTIAL_EVENTS_GROUP,
} from '../src/credentials/credential-events-reader.ts';
export {
  type CredentialProfile,
  type CredentialProfiles,
  createCredentialProfiles,
  type ProfileResult,
} from '../src/credentials/credential-profiles.ts';
export {
  type CredentialRefusal,
  type CredentialsClient,
  type CredentialsClientOptions,
  createCredentialsClient,
  type LeaseResult,
  type ReportableFailure,
  type ReportResult,
} from '../src/credentials/credentials-client.ts';
export {
  credentialsClientOptions,
  DEVELOPMENT_SIGNING_KEY_ID,
  developmentSigningKey,
  submitterSigningKey,
} from '../src/credentials/credentials-config.ts';
