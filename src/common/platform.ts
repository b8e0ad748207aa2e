// proclaunch relies on clone(CLONE_PIDFD), pidfds, process groups and cgroups: Linux only.
export function assertLinux(platform: string = process.platform): void {
  if (platform !== 'linux') {
    throw new Error(
      `proclaunch supports Linux only (this is ${platform}): it needs pidfds, clone(CLONE_PIDFD) and cgroups`,
    );
  }
}
