/**
 * Asking the training repository to retrain: when the drift job (or the quality monitor) finds an
 * alert, it sends GitHub's `repository_dispatch` event to the repository that trains the model, whose
 * workflow (`on: repository_dispatch: types: [model-drift, model-quality]`) retrains and opens the
 * pull request that the model-release gates then judge.
 *
 * Configured by environment, off unless the repository is set:
 *   RETRAIN_DISPATCH_REPOSITORY   owner/name of the training repository
 *   RETRAIN_DISPATCH_TOKEN_FILE   a file holding a token allowed to dispatch there (a fine-grained
 *                                 token with "Contents: read and write" on that repository only),
 *                                 mounted from a Secret; default /var/run/secrets/retrain/token
 *   GITHUB_API_URL                default https://api.github.com (GitHub Enterprise: its API URL)
 */
import { readFile } from 'node:fs/promises';

export interface DispatchTarget {
  readonly repository: string;
  readonly tokenFile: string;
  readonly apiUrl: string;
}

export class DispatchError extends Error {}

const repositoryPattern = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;

/** The configured target, undefined when dispatching is off; a malformed setting throws. */
export function dispatchTargetFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): DispatchTarget | undefined {
  const repository = env.RETRAIN_DISPATCH_REPOSITORY?.trim();
  if (!repository) return undefined;
  if (!repositoryPattern.test(repository))
    throw new DispatchError(`RETRAIN_DISPATCH_REPOSITORY must be owner/name, got "${repository}"`);
  return {
    repository,
    tokenFile: env.RETRAIN_DISPATCH_TOKEN_FILE?.trim() || '/var/run/secrets/retrain/token',
    apiUrl: (env.GITHUB_API_URL?.trim() || 'https://api.github.com').replace(/\/+$/, ''),
  };
}

/**
 * Sends `eventType` with `payload` (GitHub allows at most 10 top-level keys) and resolves once
 * GitHub accepted it (204); anything else throws with GitHub's answer.
 */
export async function dispatchRetrain(
  target: DispatchTarget,
  eventType: 'model-drift' | 'model-quality',
  payload: Readonly<Record<string, unknown>>,
): Promise<void> {
  let token: string;
  try {
    token = (await readFile(target.tokenFile, 'utf8')).trim();
  } catch (error) {
    throw new DispatchError(
      `cannot read the dispatch token ${target.tokenFile}: ${(error as Error).message}`,
    );
  }
  if (!token) throw new DispatchError(`the dispatch token file ${target.tokenFile} is empty`);
  const url = `${target.apiUrl}/repos/${target.repository}/dispatches`;
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'x-github-api-version': '2022-11-28',
      'user-agent': 'mlops-service-retrain-dispatch',
    },
    body: JSON.stringify({ event_type: eventType, client_payload: payload }),
    signal: AbortSignal.timeout(15_000),
  }).catch((error: Error) => {
    throw new DispatchError(`POST ${url} failed: ${error.message}`);
  });
  if (res.status !== 204) {
    const body = (await res.text()).slice(0, 300);
    throw new DispatchError(`POST ${url} answered ${res.status}: ${body}`);
  }
}

/**
 * For the CLIs: when `alert` is true and dispatching is configured, send the event and say so.
 * Returns the exit code to use: `alertCode`, or 3 when the dispatch itself failed.
 */
export async function dispatchOnAlert(
  alert: boolean,
  eventType: 'model-drift' | 'model-quality',
  payload: Readonly<Record<string, unknown>>,
  alertCode: number,
  target: DispatchTarget | undefined = dispatchTargetFromEnv(),
): Promise<number> {
  if (!alert || !target) return alertCode;
  try {
    await dispatchRetrain(target, eventType, payload);
    process.stderr.write(`retraining requested: ${eventType} sent to ${target.repository}\n`);
    return alertCode;
  } catch (error) {
    process.stderr.write(`retraining request failed: ${(error as Error).message}\n`);
    return 3;
  }
}
