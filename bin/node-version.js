// Can this Node run Lastcall? Plain JavaScript (no type annotations, no recent syntax): it runs
// on the Node it judges. Type stripping is on by default from Node 22.18 and 23.6
// (process.features.typescript is then "strip"); `--no-strip-types` turns it off again.

export const MINIMUM = { major: 22, minor: 18 };

/** The one line that installs Node 24 with npm alone (no root, no version manager). */
export function installLine(platform, arch) {
  const os = platform === 'win32' ? 'win' : platform;
  const dir = '~/.cache/lastcall-node';
  return `npm install --prefix ${dir} node-${os}-${arch}@24 && export PATH=${dir}/node_modules/node-${os}-${arch}/bin:$PATH`;
}

/** Undefined when `proc` (process) can run Lastcall, else what to say, several lines. */
export function nodeVersionProblem(proc) {
  const version = proc.versions.node;
  const [major, minor] = version.split('.').map(Number);
  const recent = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= MINIMUM.minor);
  const strips = Boolean(proc.features?.typescript);
  if (recent && strips) return undefined;
  const needs = `Lastcall needs Node >= ${MINIMUM.major}.${MINIMUM.minor} (Node 24 LTS)`;
  if (recent)
    return `${needs} with type stripping on: this Node ${version} runs with it off (remove --no-strip-types or --no-experimental-strip-types from NODE_OPTIONS or the command line).`;
  return [
    `${needs}: this is Node ${version} (${proc.execPath}).`,
    'Get Node 24 with one line (npm alone, no root needed), then run the same command again:',
    `  ${installLine(proc.platform, proc.arch)}`,
    '(or with nvm: nvm install 24; more in docs/getting-started.md)',
  ].join('\n');
}
