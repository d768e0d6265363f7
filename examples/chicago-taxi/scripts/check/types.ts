/** Types of the policy check (`scripts/check/`), used by its JSDoc annotations. */
/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML and JSON of any shape */

export type Severity = 'error' | 'warning';
export type Stage = 'dev' | 'staging' | 'prod';
export type Target =
  | 'source'
  | 'packageJson'
  | 'dockerfile'
  | 'workflows'
  | 'terraform'
  | 'manifests'
  | 'files'
  | 'models';

/** One policy of the catalogue, with the fields read from its metadata. */
export interface Policy {
  /** `MLOPS-010` */
  readonly id: string;
  /** metadata.name, e.g. `mlops-010-hpa-cpu-only` */
  readonly name: string;
  /** `admission`: a ValidatingAdmissionPolicy; `project`: a ProjectPolicy. */
  readonly kind: 'admission' | 'project';
  /** What it is evaluated over (admission policies: the manifests). */
  readonly target: Target;
  readonly title: string;
  readonly severity: Severity;
  readonly area: string;
  /** Project-relative path of the ADR that explains it. */
  readonly adr: string;
  readonly rationale: string;
  readonly fix: string;
  /** The stages it applies to (bound in the cluster, evaluated offline). */
  readonly stages: readonly Stage[];
  /** `policies/kubernetes/MLOPS-010-hpa-cpu-only.yaml` */
  readonly file: string;
  /** The parsed object, as in the file. */
  readonly object: any;
}

export interface Area {
  readonly id: string;
  readonly title: string;
  readonly always: boolean;
  readonly cloud: boolean;
  readonly globs: readonly string[];
  readonly verify: string;
}

export interface Catalogue {
  readonly policies: readonly Policy[];
  readonly areas: readonly Area[];
  readonly actions: {
    readonly auto: readonly string[];
    readonly consult: readonly string[];
    readonly stop: readonly string[];
  };
}

/** Where a finding points. */
export interface Location {
  readonly file: string;
  readonly line?: number;
  /** What inside the file: `HorizontalPodAutoscaler/churn`, `aws_s3_bucket.models`, a path. */
  readonly object?: string;
}

export interface Finding {
  readonly policy: string;
  readonly title: string;
  readonly severity: Severity;
  readonly message: string;
  readonly fix: string;
  readonly adr: string;
  readonly file: string;
  readonly line?: number;
  readonly object?: string;
  /** The environment or stack the object belongs to (`gcp-prod`). */
  readonly scope?: string;
}

export interface K8sEnvironment {
  readonly id: string;
  readonly stage: string;
  readonly cloud: string;
  /** Project-relative path of the synthesized manifests. */
  readonly file: string;
  readonly objects: any[];
  /** The environment's kustomization (its `images:` are what CI pins). */
  readonly kustomization: any;
}

export interface TerraformStack {
  readonly name: string;
  readonly stage: string;
  readonly file: string;
  readonly backend: { readonly type: string; readonly config: any };
  readonly resources: Array<{
    readonly type: string;
    readonly name: string;
    readonly address: string;
    readonly values: any;
    /** Addresses (`type.name`) this resource's values reference through `${...}`. */
    readonly refs: string[];
  }>;
}

export interface SourceFile {
  readonly path: string;
  readonly imports: Array<{
    readonly specifier: string;
    /** Project-relative path a relative specifier resolves to, or ''. */
    readonly resolved: string;
    readonly line: number;
    readonly typeOnly: boolean;
    readonly kind: 'import' | 'export' | 'dynamic' | 'require';
  }>;
}

export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
  readonly stage: number;
  readonly flags: Record<string, string>;
  /** COPY/ADD sources (everything but the last argument). */
  readonly sources: string[];
  readonly dest: string;
}

export interface DockerfileModel {
  readonly file: string;
  readonly stages: Array<{
    readonly index: number;
    readonly name: string;
    readonly from: string;
    readonly line: number;
    readonly instructions: DockerInstruction[];
  }>;
  readonly final: {
    readonly index: number;
    readonly from: string;
    /** The user the final stage runs as ('' when no USER applies: root). */
    readonly user: string;
    /** `user` without its group. */
    readonly userName: string;
    readonly userLine: number;
    readonly instructions: DockerInstruction[];
  };
  readonly instructions: DockerInstruction[];
  readonly context: { readonly dockerignore: boolean; readonly excludesModel: boolean };
}

export interface PackageModel {
  readonly file: string;
  readonly name: string;
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
  readonly optionalDependencies: Record<string, string>;
  readonly scripts: Record<string, string>;
  readonly lock: {
    readonly file: string;
    readonly exists: boolean;
    /** Top-level package name -> locked version. */
    readonly packages: Record<string, string>;
  };
}

export interface WorkflowModel {
  readonly file: string;
  readonly name: string;
  /** `read-all`, `write-all`, `custom` (a map) or '' (none). */
  readonly permissions: string;
  readonly hasPermissions: boolean;
  readonly jobs: Array<{
    readonly id: string;
    readonly permissions: string;
    readonly hasPermissions: boolean;
  }>;
  readonly uses: Array<{ readonly uses: string; readonly line: number; readonly job: string }>;
}

export interface FileEntry {
  readonly path: string;
  /** Written by the generator (listed in .mlops-service/manifest.json). */
  readonly generated: boolean;
  /** Generated, and its content differs from what the generator wrote. */
  readonly edited: boolean;
  /** Lines of `<<<<<<<` markers (only when the file also has `>>>>>>>`). */
  readonly conflictLines: number[];
}

/** Everything the policies are evaluated over. A part is `null` when it could not be built. */
/** A model folder's feature contract, as its sidecar (model.schema.json) declares it. */
export interface ServedModel {
  readonly role: 'champion' | 'challenger';
  /** `model/model.onnx` */
  readonly file: string;
  /** Whether a model.schema.json describes it. */
  readonly described: boolean;
  /** `name:type` of each feature, in the sidecar's order. */
  readonly features: readonly string[];
}

export interface ProjectModel {
  readonly root: string;
  readonly manifests: readonly K8sEnvironment[] | null;
  readonly terraform: readonly TerraformStack[] | null;
  readonly source: { readonly files: SourceFile[] };
  readonly packageJson: PackageModel | null;
  readonly dockerfile: DockerfileModel | null;
  readonly workflows: readonly WorkflowModel[];
  readonly files: readonly FileEntry[];
  /** The models the project serves: `model/` (the champion) and `model/challenger/` if present. */
  readonly models: readonly ServedModel[];
  /** Why a part is missing, for the report. */
  readonly notes: readonly string[];
}
