import type { Clock } from '@sts/shared';
import { hashSecret, secretMatches } from './secret-hash.ts';
import {
  type SimulatorUser,
  type SimulatorUserInput,
  simulatorUserSchema,
  storedUserSchema,
} from './simulator-user.ts';

/**
 * Accounts and their login state: Basic authentication, lockout after N consecutive wrong passwords
 * (MED15 §1.2: "more than 8 wrong attempts disables the user"), password expiry (§4.4). The state
 * that changes (failures, lock, password, expiry) is what gets persisted. Secrets that arrive
 * through the admin API are hashed at once (`secret-hash.ts`): no password or pincode set at run
 * time is held, persisted or restored in clear.
 */

export interface UserLoginState {
  failedAttempts: number;
  locked: boolean;
  /** Set by the admin API, as a salted hash; overrides the configured password. */
  password?: { hash: string };
  passwordExpiresAt?: string;
}

/** A login state as state files written before passwords were hashed may hold it. */
type SavedLoginState = Omit<UserLoginState, 'password'> & { password?: { hash: string } | string };

export type AuthResult =
  | { ok: true; user: SimulatorUser }
  | {
      ok: false;
      reason: 'missing' | 'unknown-user' | 'wrong-password' | 'locked' | 'expired';
      username?: string;
    };

export interface UserDirectory {
  authenticate(authorizationHeader: string | undefined): AuthResult;
  get(username: string): SimulatorUser | undefined;
  list(): SimulatorUser[];
  loginState(username: string): UserLoginState | undefined;
  /** Adds or replaces an account (admin API), its password and pincode hashed; keeps no previous login state. */
  upsert(input: SimulatorUserInput): SimulatorUser;
  /** Puts back an account the state file kept (`storedUserSchema`; clear secrets of older files are hashed). */
  restoreAccount(stored: unknown): SimulatorUser;
  unlock(username: string): boolean;
  setPassword(username: string, password: string, expiresAt?: string): boolean;
  expire(username: string): boolean;
  /** Back to the configured accounts, no failures, no admin changes. */
  reset(): void;
  /** Replaces login states (restoring persisted state); a password in clear (older files) is hashed. */
  restore(states: Record<string, SavedLoginState>): void;
  snapshot(): Record<string, UserLoginState>;
}

export interface UserDirectoryOptions {
  users: SimulatorUserInput[];
  lockoutThreshold: number;
  clock: Clock;
  /** Called after every change of a login state, for persistence. */
  onChange?: (username: string, state: UserLoginState) => void;
  /** Called when the admin API adds an account. */
  onUpsert?: (user: SimulatorUser) => void;
}

/** `Basic base64(user:password)`; the password may contain colons, the user may not. */
export function parseBasicAuthorization(
  header: string | undefined,
): { username: string; password: string } | undefined {
  const match = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function createUserDirectory(options: UserDirectoryOptions): UserDirectory {
  const configured = new Map<string, SimulatorUser>();
  for (const input of options.users) {
    const user = simulatorUserSchema.parse(input);
    configured.set(user.username, {
      ...user,
      password: { clear: user.password },
      pincode: { clear: user.pincode },
    });
  }
  let users = new Map(configured);
  let states = new Map<string, UserLoginState>();

  const stateOf = (username: string): UserLoginState => {
    let state = states.get(username);
    if (!state) {
      state = { failedAttempts: 0, locked: false };
      states.set(username, state);
    }
    return state;
  };
  const changed = (username: string) => options.onChange?.(username, { ...stateOf(username) });

  const isExpired = (user: SimulatorUser, state: UserLoginState) => {
    const expiresAt = state.passwordExpiresAt ?? user.passwordExpiresAt;
    if (state.passwordExpiresAt === undefined && state.password === undefined && user.expired) return true;
    return expiresAt !== undefined && new Date(expiresAt).getTime() <= options.clock().getTime();
  };

  return {
    authenticate(header) {
      const credentials = parseBasicAuthorization(header);
      if (!credentials) return { ok: false, reason: 'missing' };
      const user = users.get(credentials.username);
      if (!user) return { ok: false, reason: 'unknown-user', username: credentials.username };
      const state = stateOf(user.username);
      // A locked account fails whatever the password, and further attempts change nothing.
      if (state.locked) return { ok: false, reason: 'locked', username: user.username };
      if (!secretMatches(state.password ?? user.password, credentials.password)) {
        state.failedAttempts++;
        if (state.failedAttempts >= options.lockoutThreshold) state.locked = true;
        changed(user.username);
        return { ok: false, reason: 'wrong-password', username: user.username };
      }
      if (state.failedAttempts > 0) {
        state.failedAttempts = 0;
        changed(user.username);
      }
      if (isExpired(user, state)) return { ok: false, reason: 'expired', username: user.username };
      return { ok: true, user };
    },
    get: (username) => users.get(username),
    list: () => [...users.values()],
    loginState: (username) => (users.has(username) ? { ...stateOf(username) } : undefined),
    upsert(input) {
      const parsed = simulatorUserSchema.parse(input);
      const user: SimulatorUser = {
        ...parsed,
        password: hashSecret(parsed.password),
        pincode: hashSecret(parsed.pincode),
      };
      users.set(user.username, user);
      states.delete(user.username);
      options.onUpsert?.(user);
      changed(user.username);
      return user;
    },
    restoreAccount(stored) {
      const user: SimulatorUser = storedUserSchema.parse(stored);
      users.set(user.username, user);
      states.delete(user.username);
      options.onUpsert?.(user);
      return user;
    },
    unlock(username) {
      if (!users.has(username)) return false;
      const state = stateOf(username);
      state.locked = false;
      state.failedAttempts = 0;
      changed(username);
      return true;
    },
    setPassword(username, password, expiresAt) {
      if (!users.has(username)) return false;
      const state = stateOf(username);
      // Only the issuing body can re-enable a user, with a new password (MED15 §1.2): this does both.
      state.password = hashSecret(password);
      state.locked = false;
      state.failedAttempts = 0;
      if (expiresAt === undefined) delete state.passwordExpiresAt;
      else state.passwordExpiresAt = expiresAt;
      changed(username);
      return true;
    },
    expire(username) {
      if (!users.has(username)) return false;
      stateOf(username).passwordExpiresAt = options.clock().toISOString();
      changed(username);
      return true;
    },
    reset() {
      users = new Map(configured);
      states = new Map();
    },
    restore(saved) {
      states = new Map(
        Object.entries(saved).map(([name, { password, ...state }]) => [
          name,
          {
            ...state,
            ...(password === undefined
              ? {}
              : { password: typeof password === 'string' ? hashSecret(password) : { hash: password.hash } }),
          },
        ]),
      );
    },
    snapshot: () => Object.fromEntries([...states].map(([name, state]) => [name, { ...state }])),
  };
}
