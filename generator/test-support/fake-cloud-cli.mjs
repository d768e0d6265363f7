#!/usr/bin/env node
/**
 * A recorded stand-in for the cloud and cluster tools a deploy calls (gcloud, aws, kubectl, cosign,
 * docker, kustomize): linked under each tool's name on PATH, it appends `{tool, args}` to
 * $FAKE_LOG and answers from the state directory $FAKE_STATE:
 *
 *   objects/<uri, "/" as "%2F">   an object in a bucket (gs:// or s3://)
 *   signed/<image@digest>         an image in a registry, signed by CI; present/<ref> unsigned
 *   tags/<image:tag>              the digest a tag points at
 *   revision                      the Deployment's current revision (absent: no Deployment yet)
 *   rollout-fails                 `kubectl rollout status` fails while this file exists
 *   no-rbac                       `kubectl auth can-i` answers "no" (the cluster part was never applied)
 *   fail/<tool> <argv prefix>     exit 1 for any call starting with this argv (a file per rule)
 */
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';

const tool = basename(process.argv[1]);
const args = process.argv.slice(2);
const state = process.env.FAKE_STATE;
appendFileSync(process.env.FAKE_LOG, `${JSON.stringify({ tool, args })}\n`);

const at = (...p) => join(state, ...p);
const key = (s) => s.replace(/\//g, '%2F');
const object = (uri) => at('objects', key(uri));
const fail = (message, code = 1) => {
  process.stderr.write(`${message}\n`);
  process.exit(code);
};
const opt = (name) => args[args.indexOf(name) + 1];

for (const rule of existsSync(at('fail')) ? readdirSync(at('fail')) : []) {
  const prefix = readFileSync(at('fail', rule), 'utf8').trim();
  if (`${tool} ${args.join(' ')}`.startsWith(prefix)) fail(`(fake) refused: ${prefix}`);
}

function put(uri, from) {
  mkdirSync(at('objects'), { recursive: true });
  copyFileSync(from, object(uri));
}
function get(uri, to) {
  if (!existsSync(object(uri))) fail(`ERROR: ${uri}: NotFound 404`);
  copyFileSync(object(uri), to);
}

const line = args.join(' ');
switch (tool) {
  case 'gcloud': {
    if (line.startsWith('storage objects describe')) {
      if (!existsSync(object(args[3])))
        fail(`ERROR: (gcloud.storage.objects.describe) NotFound: 404 ${args[3]}`);
      process.stdout.write(`${args[3]}\n`);
    } else if (line.startsWith('storage cp')) {
      const [from, to] = args.filter((a) => !a.startsWith('--')).slice(2);
      if (to.startsWith('gs://')) {
        if (args.includes('--no-clobber') && existsSync(object(to))) break;
        put(to, from);
      } else get(from, to);
    }
    break;
  }
  case 'aws': {
    if (line.startsWith('s3api head-object')) {
      const uri = `s3://${opt('--bucket')}/${opt('--key')}`;
      if (!existsSync(object(uri)))
        fail('An error occurred (404) when calling the HeadObject operation: Not Found', 254);
      process.stdout.write('{}\n');
    } else if (line.startsWith('s3api put-object')) {
      const uri = `s3://${opt('--bucket')}/${opt('--key')}`;
      if (args.includes('--if-none-match') && existsSync(object(uri)))
        fail('PreconditionFailed (412)', 254);
      put(uri, opt('--body'));
    } else if (line.startsWith('s3 cp')) {
      const [from, to] = args.filter((a) => !a.startsWith('--')).slice(2);
      if (to.startsWith('s3://')) put(to, from);
      else get(from, to);
    }
    break;
  }
  case 'kubectl': {
    if (args[0] === 'auth' && args[1] === 'can-i') {
      if (existsSync(at('no-rbac'))) {
        process.stdout.write('no\n');
        process.exit(1);
      }
      process.stdout.write('yes\n');
    } else if (args[0] === 'get' && args[1].startsWith('deployment/')) {
      if (!existsSync(at('revision')))
        fail(`Error from server (NotFound): deployments.apps "${args[1].slice(11)}" not found`);
      process.stdout.write(readFileSync(at('revision'), 'utf8').trim());
    } else if (args[0] === 'rollout' && args[1] === 'status') {
      if (existsSync(at('rollout-fails'))) fail('error: timed out waiting for the condition');
      process.stdout.write(`deployment "${args[2]}" successfully rolled out\n`);
    } else if (args[0] === 'apply') {
      const revision = existsSync(at('revision'))
        ? Number(readFileSync(at('revision'), 'utf8'))
        : 0;
      writeFileSync(at('revision'), String(revision + 1));
    } else if (args[0] === 'rollout' && args[1] === 'undo') {
      const to =
        opt('--to-revision') ?? args.find((a) => a.startsWith('--to-revision='))?.split('=')[1];
      writeFileSync(at('revision'), String(to));
      rmSync(at('rollout-fails'), { force: true }); // the previous revision rolls out
    } else {
      process.stdout.write(`(fake) kubectl ${line}\n`);
    }
    break;
  }
  case 'cosign': {
    if (args[0] === 'verify' || args[0] === 'verify-attestation') {
      const ref = args.find((a) => a.includes('@sha256:'));
      if (!existsSync(at('signed', key(ref)))) fail(`Error: no matching signatures: ${ref}`);
    } else if (args[0] === 'copy') {
      const [from, to] = args.slice(1);
      if (!existsSync(at('signed', key(from)))) fail(`Error: ${from}: not found`);
      const target = `${to.replace(/:[^:/]+$/, '')}@${from.split('@')[1]}`;
      if (existsSync(at('present', key(target))) || existsSync(at('signed', key(target))))
        fail(`tag ${to} already exists (immutable)`);
      mkdirSync(at('signed'), { recursive: true });
      writeFileSync(at('signed', key(target)), '');
    }
    break;
  }
  case 'docker': {
    if (line.startsWith('buildx imagetools inspect')) {
      const tag = at('tags', key(args[3]));
      if (!existsSync(tag)) fail(`ERROR: ${args[3]}: not found`);
      process.stdout.write(`${JSON.stringify({ digest: readFileSync(tag, 'utf8').trim() })}\n`);
    } else if (args[0] === 'manifest' && args[1] === 'inspect') {
      if (!existsSync(at('present', key(args[2]))) && !existsSync(at('signed', key(args[2]))))
        fail('no such manifest');
    }
    break;
  }
  default:
    break;
}
