// execa and tinyexec are devDependencies: present in a repo checkout, absent when
// proclaunch is installed as a dependency. The bench then skips them and says why.

/** The module, or a one-line reason why it could not be loaded. */
export async function importOptional<T>(name: string, installHint: string): Promise<T | string> {
  const specifier: string = name; // a variable keeps tsc from resolving (and needing) the package
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return `${name} is not installed (npm install --save-dev ${installHint})`;
    return `${name} failed to load: ${(error as Error).message}`;
  }
}
