// What the global setup tells the systemd test files (through vitest's provide/inject).
export interface SystemdTestContext {
  /** A systemd manager is reachable on `address`. */
  available: boolean;
  /** Why not, when it is not (printed as the skip reason). */
  reason: string;
  /** The user bus address the tests use (also exported as DBUS_SESSION_BUS_ADDRESS). */
  address: string | null;
  /** XDG_RUNTIME_DIR of that manager. */
  runtimeDir: string | null;
  /** 'started' when the suite brought up its own manager, 'existing' when one was there. */
  source: 'started' | 'existing' | 'none';
}

declare module 'vitest' {
  export interface ProvidedContext {
    systemd: SystemdTestContext;
  }
}

/** Every unit the tests create starts with this, and the teardown checks none is left. */
export const TEST_UNIT_PREFIX = 'proclaunch-test-';
