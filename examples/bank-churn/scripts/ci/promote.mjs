#!/usr/bin/env node
/**
 * A release tag promotes what main already built: the image pushed as `<image>:sha-<commit>` by CI
 * on main, signed there. This prints its digest (and writes `digest=` to $GITHUB_OUTPUT) after
 * checking that signature, so the tag deploys the very bytes main tested, with no second build,
 * no second signature and no tag to collide with.
 *
 *   node scripts/ci/promote.mjs --image ghcr.io/<owner>/<repo> --sha <commit> [--repository owner/repo]
 */
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { option } from './plan.mjs';
import { spawnSync } from 'node:child_process';

class DeployError extends Error {}

function tool(command, args) {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error)
    throw new DeployError(`${command}: ${r.error.message} (is it installed and on PATH?)`);
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The digest main published for `sha`, verified as signed by this repository's CI on main. */
export function publishedDigest({ image, sha, repository }) {
  const tagged = `${image}:sha-${sha}`;
  const inspect = tool('docker', [
    'buildx',
    'imagetools',
    'inspect',
    tagged,
    '--format',
    '{{json .Manifest}}',
  ]);
  if (inspect.status !== 0) {
    throw new DeployError(
      `${tagged} does not exist: tag a commit that CI built and published on main (${inspect.stderr.trim()})`,
    );
  }
  const digest = JSON.parse(inspect.stdout).digest;
  if (!/^sha256:[a-f0-9]{64}$/.test(digest ?? ''))
    throw new DeployError(`${tagged}: no digest in ${inspect.stdout.trim()}`);
  const identity = `https://github.com/${repository}/.github/workflows/ci.yml@refs/heads/main`;
  const verified = tool('cosign', [
    'verify',
    `${image}@${digest}`,
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    'https://token.actions.githubusercontent.com',
  ]);
  if (verified.status !== 0) {
    throw new DeployError(
      `${image}@${digest} is not signed by ${identity}: ${verified.stderr.trim()}`,
    );
  }
  return digest;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    const argv = process.argv.slice(2);
    const digest = publishedDigest({
      image: option(argv, '--image'),
      sha: option(argv, '--sha') ?? process.env.GITHUB_SHA,
      repository: option(argv, '--repository') ?? process.env.GITHUB_REPOSITORY,
    });
    if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `digest=${digest}\n`);
    console.log(`digest=${digest}`);
  } catch (error) {
    console.log(`::error::${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
