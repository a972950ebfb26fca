// Optional peer dependencies: packages that only one option or one CLI command needs (memory-level for
// `peerStore: { memory: true }`, datastore-level for `peerscope import --libp2p-datastore`), so a node that never
// uses them does not install them. They are loaded on first use; a missing one fails naming what to install.
import { readFileSync } from 'node:fs'

/** `code: 'ERR_MISSING_DEPENDENCY'`: an optional peer dependency an option or command needs is not installed. */
export class MissingDependencyError extends Error {
  readonly code = 'ERR_MISSING_DEPENDENCY'
  readonly dependency: string

  constructor(dependency: string, neededFor: string, options?: ErrorOptions) {
    super(
      `${neededFor} needs the package ${dependency}, which is not installed: run ` +
        `\`npm install ${dependency}@${peerRange(dependency)}\` in your project`,
      options
    )
    this.name = 'MissingDependencyError'
    this.dependency = dependency
  }
}

/** The range this package declares for `name` (package.json sits one level above both src/ and dist/). */
function peerRange(name: string): string {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      peerDependencies?: Record<string, string>
    }
    return manifest.peerDependencies?.[name] ?? 'latest'
  } catch {
    return 'latest'
  }
}

/** Imports the optional peer dependency `name`, or throws `MissingDependencyError` naming it and `neededFor`. */
export async function importOptional<T>(name: string, neededFor: string): Promise<T> {
  try {
    return (await import(name)) as T
  } catch (err) {
    const e = err as { code?: string; message?: string }
    // The package itself missing only: one of its own imports missing is a broken install, reported as it is.
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message?.includes(`'${name}'`) === true) {
      throw new MissingDependencyError(name, neededFor, { cause: err })
    }
    throw err
  }
}
