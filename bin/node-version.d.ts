// Types of node-version.js (plain JavaScript, so that an old Node can run it), for its tests.
export declare const MINIMUM: { readonly major: number; readonly minor: number };
export declare function installLine(platform: string, arch: string): string;
export declare function nodeVersionProblem(proc: {
  readonly versions: { readonly node: string };
  readonly features?: { readonly typescript?: string | false };
  readonly execPath: string;
  readonly platform: string;
  readonly arch: string;
}): string | undefined;
