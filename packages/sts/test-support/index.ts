// Test support of @sts/sts for other packages' tests (`@sts/sts/testing`); never imported by src/.
export { decryptsWith, RENEWAL_DATES, sanitelRenewalStandIns } from './sanitel-renewal.ts';
export { createTestEncryption, type TestEncryption } from './test-encryptor.ts';
