/**
 * `npm run synth:infra`: synthesizes every stack to Terraform JSON under deploy/infra/cdktf.out
 * (or $CDKTF_OUTDIR). No cdktf CLI needed; the output runs with terraform or tofu alone.
 */
import { resolve } from 'node:path';
import { App } from 'cdktf';
import { buildStacks } from './main.js';

const outdir = process.env.CDKTF_OUTDIR ?? resolve('deploy/infra/cdktf.out');
const app = new App({ outdir });
const stacks = buildStacks(app);
app.synth();
for (const id of stacks.keys())
  console.log(`${id}: ${resolve(outdir, 'stacks', id, 'cdk.tf.json')}`);
