// Types of young-generation.js (plain JavaScript, as the launcher), for its tests.
export declare const SEMI_SPACE_MIB: { readonly work: number; readonly 'subscribers import': number };
export declare const HEAP_GROWING_PERCENT: { readonly work: number };
export declare const MALLOC_ENV: {
  readonly 'subscribers import': { readonly MALLOC_MMAP_THRESHOLD_: string };
};
export declare function restartEnvironment(proc: {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}): Record<string, string | undefined>;
export declare function youngGenerationRestart(proc: {
  readonly execve?: unknown;
  readonly platform: string;
  readonly execPath: string;
  readonly execArgv: readonly string[];
  readonly argv: readonly string[];
  readonly env: { readonly NODE_OPTIONS?: string };
}): string[] | undefined;
