//! The image configs the fixed resolver hands out, as registries serve them.

/// A plain base image.
const PLAIN: &str = r#"{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},"history":[{"created":"2024-01-01T00:00:00Z","created_by":"ADD file:x in /","empty_layer":false},{"created_by":"CMD [\"sh\"]","empty_layer":true}]}"#;

/// Everything a config may set: env, workdir, user, shell, healthcheck, and ONBUILD triggers
/// that read a stage, an image, a mount, an ARG and a relative WORKDIR.
const RICH: &str = r#"{"architecture":"arm64","variant":"v8","os":"linux","config":{"User":"1000:1000","ExposedPorts":{"80/tcp":{}},"Env":["PATH=/opt/bin:/usr/bin:/bin","LANG=C.UTF-8","HOME=/home/app"],"Entrypoint":["/entry.sh"],"Cmd":["serve","--port=80"],"Volumes":{"/data":{}},"WorkingDir":"/app","Labels":{"org.opencontainers.image.title":"rich"},"StopSignal":"SIGTERM","Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"OnBuild":["ARG ONBUILD_ARG=ob","ENV FROM_ONBUILD=$ONBUILD_ARG","WORKDIR sub","COPY --from=build /out /onbuild","RUN --mount=from=busybox,target=/m ls /m","RUN echo \"$FROM_ONBUILD\" > /onbuild.txt"],"Shell":["/bin/bash","-o","pipefail","-c"]},"rootfs":{"type":"layers","diff_ids":["sha256:bb"]},"history":[{"created_by":"x"}]}"#;

/// ONBUILD triggers the reference refuses or that name other images.
const ODD_ONBUILD: &str = r#"{"os":"linux","architecture":"amd64","config":{"Env":["A=1","NOVALUE"],"OnBuild":["COPY --from=alpine:3.20 /etc/os-release /","ADD . /src","ONBUILD RUN true","FROM busybox","MAINTAINER x","RUN --network=none true"]}}"#;

/// A Windows image: paths and the default shell differ.
const WINDOWS: &str = r#"{"architecture":"amd64","os":"windows","os.version":"10.0.20348.2340","config":{"Env":["Path=C:\\Windows\\system32;C:\\Windows"],"WorkingDir":"C:\\app","User":"ContainerUser","Shell":["cmd","/S","/C"]}}"#;

/// Nulls where the config's lists and maps are expected, as Go writes nil ones.
const NULL_FIELDS: &str = r#"{"architecture":"amd64","os":"linux","config":{"Env":null,"Cmd":null,"Entrypoint":null,"Volumes":null,"OnBuild":null,"Labels":null,"Shell":null},"rootfs":{"type":"layers","diff_ids":["sha256:cc"]}}"#;

/// No config (what an offline resolver gives for an unknown image).
const NONE: &str = "";

/// What the resolver gives most images, by a hash of the name.
pub const ALL: &[&str] = &[
    PLAIN,
    RICH,
    ODD_ONBUILD,
    WINDOWS,
    NULL_FIELDS,
    NONE,
    PLAIN,
    RICH,
];

/// Images whose name contains the key get that config instead: one that is no config at all,
/// and one with a layerless image's nulls (`rootfs.diff_ids`, `history`).
pub const BY_NAME: &[(&str, &str)] = &[
    ("broken", r#"{"config":{"Env":"PATH=/bin"}"#),
    (
        "nulls",
        r#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":null},"history":null}"#,
    ),
];
