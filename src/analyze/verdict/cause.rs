//! The taxonomy of cache-miss causes: ids (serialized kebab-case, a contract), their family,
//! their words and the change that fixes each. Data, no rules: the rules are in the parent.

use serde::Serialize;

/// The taxonomy. Serialized names are a contract (DESIGN.md): add, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    // Inputs changed: a miss was the right answer.
    BaseImageChanged,
    DependencyManifestChanged,
    SourceChanged,
    BuildArgChanged,
    InstructionChanged,
    UpstreamStageChanged,
    // The cache was unavailable or useless.
    NoCacheConfigured,
    LocalCacheCold,
    ImportNotFound,
    ImportUnauthorized,
    ImportDenied,
    ImportUnreachable,
    ImportIneffective,
    MinModeMultistage,
    FreshBuilder,
    NoCacheFlag,
    // Writing the cache for the next build failed.
    ExportUnsupportedDriver,
    EcrManifestRejected,
    ExportFailedOther,
    // Neither a miss nor a cache problem.
    AllCached,
    BuildFailedNotCache,
    /// The log holds no docker build to judge.
    NoDockerBuild,
}

/// The family a cause belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Group {
    InputsChanged,
    CacheUnavailable,
    ExportFailed,
    Healthy,
    BuildFailed,
    NoBuild,
}

impl Cause {
    pub const ALL: [Cause; 22] = [
        Cause::BaseImageChanged,
        Cause::DependencyManifestChanged,
        Cause::SourceChanged,
        Cause::BuildArgChanged,
        Cause::InstructionChanged,
        Cause::UpstreamStageChanged,
        Cause::NoCacheConfigured,
        Cause::LocalCacheCold,
        Cause::ImportNotFound,
        Cause::ImportUnauthorized,
        Cause::ImportDenied,
        Cause::ImportUnreachable,
        Cause::ImportIneffective,
        Cause::MinModeMultistage,
        Cause::FreshBuilder,
        Cause::NoCacheFlag,
        Cause::ExportUnsupportedDriver,
        Cause::EcrManifestRejected,
        Cause::ExportFailedOther,
        Cause::AllCached,
        Cause::BuildFailedNotCache,
        Cause::NoDockerBuild,
    ];

    /// The serialized id (`min-mode-multistage`).
    pub fn id(self) -> &'static str {
        match self {
            Cause::BaseImageChanged => "base-image-changed",
            Cause::DependencyManifestChanged => "dependency-manifest-changed",
            Cause::SourceChanged => "source-changed",
            Cause::BuildArgChanged => "build-arg-changed",
            Cause::InstructionChanged => "instruction-changed",
            Cause::UpstreamStageChanged => "upstream-stage-changed",
            Cause::NoCacheConfigured => "no-cache-configured",
            Cause::LocalCacheCold => "local-cache-cold",
            Cause::ImportNotFound => "import-not-found",
            Cause::ImportUnauthorized => "import-unauthorized",
            Cause::ImportDenied => "import-denied",
            Cause::ImportUnreachable => "import-unreachable",
            Cause::ImportIneffective => "import-ineffective",
            Cause::MinModeMultistage => "min-mode-multistage",
            Cause::FreshBuilder => "fresh-builder",
            Cause::NoCacheFlag => "no-cache-flag",
            Cause::ExportUnsupportedDriver => "export-unsupported-driver",
            Cause::EcrManifestRejected => "ecr-manifest-rejected",
            Cause::ExportFailedOther => "export-failed-other",
            Cause::AllCached => "all-cached",
            Cause::BuildFailedNotCache => "build-failed-not-cache",
            Cause::NoDockerBuild => "no-docker-build",
        }
    }

    /// The inverse of [`Cause::id`].
    pub fn parse(id: &str) -> Option<Cause> {
        Cause::ALL.into_iter().find(|c| c.id() == id)
    }

    pub fn group(self) -> Group {
        use Cause::*;
        match self {
            BaseImageChanged
            | DependencyManifestChanged
            | SourceChanged
            | BuildArgChanged
            | InstructionChanged
            | UpstreamStageChanged => Group::InputsChanged,
            NoCacheConfigured | LocalCacheCold | ImportNotFound | ImportUnauthorized
            | ImportDenied | ImportUnreachable | ImportIneffective | MinModeMultistage
            | FreshBuilder | NoCacheFlag => Group::CacheUnavailable,
            ExportUnsupportedDriver | EcrManifestRejected | ExportFailedOther => {
                Group::ExportFailed
            }
            AllCached => Group::Healthy,
            BuildFailedNotCache => Group::BuildFailed,
            NoDockerBuild => Group::NoBuild,
        }
    }

    /// What happened, in a few words.
    pub fn title(self) -> &'static str {
        match self {
            Cause::BaseImageChanged => "the base image changed",
            Cause::DependencyManifestChanged => "a dependency manifest changed",
            Cause::SourceChanged => "application source changed",
            Cause::BuildArgChanged => "a build argument changed",
            Cause::InstructionChanged => "the instruction changed",
            Cause::UpstreamStageChanged => "an upstream stage was rebuilt",
            Cause::NoCacheConfigured => "no cache source configured",
            Cause::LocalCacheCold => "the host's local cache was cold (new or evicted host)",
            Cause::ImportNotFound => "the cache image was not found",
            Cause::ImportUnauthorized => "the cache import was unauthorized (no registry login)",
            Cause::ImportDenied => "the cache import was denied",
            Cause::ImportUnreachable => "the cache registry was unreachable",
            Cause::ImportIneffective => {
                "the cache image was imported but served nothing (no cache metadata in it)"
            }
            Cause::MinModeMultistage => {
                "earlier stages are not in the registry cache (inline cache is min-mode)"
            }
            Cause::FreshBuilder => "a fresh docker-container builder had no cache",
            Cause::NoCacheFlag => "--no-cache was passed",
            Cause::ExportUnsupportedDriver => "the docker driver cannot export cache",
            Cause::EcrManifestRejected => "ECR rejected the cache manifest",
            Cause::ExportFailedOther => "the cache export failed",
            Cause::AllCached => "every step came from cache",
            Cause::BuildFailedNotCache => "a step failed, not the cache",
            Cause::NoDockerBuild => "no docker build in the log",
        }
    }

    /// The change that fixes it, as a buildspec or Dockerfile snippet where there is one.
    pub fn fix(self) -> &'static str {
        match self {
            Cause::BaseImageChanged => "expected when the base tag moves; pin it by digest (FROM image:tag@sha256:…) to change it on your schedule, and keep the host cache warm so the new base is pulled once",
            Cause::DependencyManifestChanged => "expected when dependencies change; keep the manifest COPY and the install RUN before COPY . . so only such changes pay for the install",
            Cause::SourceChanged => "expected when the source changes; copy the dependency manifests and install before COPY . ., and keep .git and build outputs out of the context with .dockerignore",
            Cause::BuildArgChanged => "pass per-build values (dates, commit SHAs, build numbers) as late as possible: declare the ARG just before the step that needs it, or set them as LABELs at the end, so earlier layers stay cached",
            Cause::InstructionChanged => "expected after editing the Dockerfile; if the line did not change, the cache was unavailable: check the cache import and the alternatives named",
            Cause::UpstreamStageChanged => "the stage this COPY --from reads was rebuilt: fix that stage's miss first",
            Cause::NoCacheConfigured => "give the build a cache: in the buildspec, `docker pull $REPO:latest || true` and `docker build --cache-from $REPO:latest --build-arg BUILDKIT_INLINE_CACHE=1 ...` (push the image after), and/or the project's cache `type: LOCAL, modes: [LOCAL_DOCKER_LAYER_CACHE]`",
            Cause::LocalCacheCold => "CodeBuild's local cache lives on one host, best effort, for a short time: do not rely on it alone; add a registry cache (`--cache-from $REPO:latest --build-arg BUILDKIT_INLINE_CACHE=1`, or a docker-container builder with `--cache-to type=registry,ref=$REPO:buildcache,mode=max,image-manifest=true,oci-mediatypes=true`)",
            Cause::ImportNotFound => "the --cache-from image does not exist yet (first build, or expired by an ECR lifecycle rule): push it once built with `--build-arg BUILDKIT_INLINE_CACHE=1` (or `--cache-to`), and check that --cache-from and --cache-to name the same ref",
            Cause::ImportUnauthorized => "log in before the build: `aws ecr get-login-password | docker login --username AWS --password-stdin $REGISTRY` in pre_build (a docker-container builder needs the login before `docker buildx create`)",
            Cause::ImportDenied => "allow the build's service role ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and ecr:BatchCheckLayerAvailability on the cache repository, and check the repository name",
            Cause::ImportUnreachable => "check the registry address in --cache-from, the VPC's route to it (NAT or ECR VPC endpoints for api, dkr and s3) and DNS",
            Cause::ImportIneffective => "the --cache-from image carries no cache metadata, so BuildKit silently ignores it: build and push it with `--build-arg BUILDKIT_INLINE_CACHE=1` (or `--cache-to type=inline`), or export a registry cache with `--cache-to type=registry,ref=$REPO:buildcache,mode=max,image-manifest=true,oci-mediatypes=true` and import it with `--cache-from type=registry,ref=$REPO:buildcache`",
            Cause::MinModeMultistage => "inline cache (and registry cache by default) exports only the final stage's layers. Export every stage: `docker buildx create --use --driver docker-container` then `docker buildx build --cache-to type=registry,ref=$REPO:buildcache,mode=max,image-manifest=true,oci-mediatypes=true --cache-from type=registry,ref=$REPO:buildcache --push ...` (the default docker driver cannot export this cache); or push the builder stage under its own tag: `docker build --target builder --build-arg BUILDKIT_INLINE_CACHE=1 -t $REPO:builder --cache-from $REPO:builder .` and add `--cache-from $REPO:builder` to the final build",
            Cause::FreshBuilder => "a builder created in this build starts empty on every CodeBuild host: give it a registry cache (`--cache-to type=registry,ref=$REPO:buildcache,mode=max,image-manifest=true,oci-mediatypes=true --cache-from type=registry,ref=$REPO:buildcache`), or use the default docker driver with LOCAL_DOCKER_LAYER_CACHE and inline cache",
            Cause::NoCacheFlag => "remove --no-cache from the build command (use --pull to refresh the base image instead)",
            Cause::ExportUnsupportedDriver => "the default docker driver can only write inline cache: use `--build-arg BUILDKIT_INLINE_CACHE=1` (or `--cache-to type=inline`), or create a builder that can export: `docker buildx create --use --driver docker-container` before `docker buildx build --cache-to type=registry,... --push`",
            Cause::EcrManifestRejected => "ECR needs an image manifest for cache: add `image-manifest=true,oci-mediatypes=true` to --cache-to (`--cache-to type=registry,ref=$REPO:buildcache,mode=max,image-manifest=true,oci-mediatypes=true`), with BuildKit 0.12 or later",
            Cause::ExportFailedOther => "read the export error quoted above; the next build will not find this cache until the export succeeds",
            Cause::AllCached => "nothing to change",
            Cause::BuildFailedNotCache => "fix the failing step quoted above; the cache is not the problem",
            Cause::NoDockerBuild => "run the docker build with --progress=plain and keep its output in the log (or tee it to a file)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// The log states it.
    Certain,
    /// The log's lines point to it; another cause could leave the same lines.
    Likely,
    /// A guess from the shape of the build; the alternatives are as plausible.
    Possible,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
            Confidence::Possible => "possible",
        }
    }
}
