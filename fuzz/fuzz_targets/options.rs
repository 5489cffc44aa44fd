//! Any frontend options (the input's lines as `key=value`, as BuildKit passes
//! `BUILDKIT_FRONTEND_OPT_<n>`) must be read or refused cleanly, never panic; what is read
//! converts a fixed multi-stage Dockerfile as the gateway would, marshalled both ways.
#![no_main]

mod common;

use std::collections::BTreeMap;

use common::{convert_checked, load_contexts};
use libfuzzer_sys::fuzz_target;
use mstage::gateway::request::BuildRequest;
use mstage::platform::Platform;

/// Uses what RUN options, named contexts, no-cache filters, build args and targets touch.
const DOCKERFILE: &str = r#"# check=skip=JSONArgsRecommended
ARG BASE=busybox:latest
ARG SOURCE_DATE_EPOCH
FROM ${BASE} AS base
ARG VERSION=1
ENV VERSION=$VERSION
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/cache --mount=type=secret,id=tok echo $VERSION > /v

FROM base AS build
RUN --mount=from=tools,target=/t --network=none cat /t/x > /out
ONBUILD RUN true

FROM scratch AS final
COPY --from=build /out /out
COPY --from=alpine:3.20 /etc/os-release /
ADD https://example.com/file.txt /file.txt
LABEL version=$VERSION
CMD ["/out"]
"#;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let options = frontend_options(&text);
    let Ok(request) = BuildRequest::from_options(&options) else {
        return;
    };
    let _ = request.resolve_mode_name();
    for name in request.named_contexts.0.keys() {
        let _ = request.session_of(name);
    }
    let build = Platform::parse("linux/amd64").expect("a valid platform");
    for target in request.targets().into_iter().take(3) {
        let mut opts = request.convert_options(target);
        opts.build_platform = build.clone();
        opts.llb_caps = Some(common::all_caps());
        load_contexts(&mut opts, false);
        convert_checked(DOCKERFILE, &mut opts, false);
    }
});

/// One option per line, split at the first `=` as the gateway splits its environment.
fn frontend_options(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(|line| match line.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (line.to_string(), String::new()),
        })
        .collect()
}
