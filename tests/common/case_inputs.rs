//! What the `flags` of a named-context case (tests/named_contexts/) refer to, set up for one case
//! on this machine; its placeholders are replaced by:
//! - `{case}`: a copy of the case folder, for local directory contexts (`{case}/dir`);
//! - `{git}`: `git://127.0.0.1:PORT/repo.git`, a repository served by `git daemon`, made from
//!   the case's `git/` folder: tag `v1` holds its files, `main` adds `after-v1.txt`;
//! - `{git-http}`: `http://127.0.0.1:PORT/repo.git`, the same repository as plain files over
//!   HTTP (git's "dumb" protocol), which BuildKit must recognize as git by its `.git`;
//! - `{http}`: `http://127.0.0.1:PORT`, serving the case's `http/` folder;
//! - `{oci}`: `oci-layout://<layout>@sha256:…`, an OCI layout built here from the case's
//!   `oci/` folder (a Dockerfile and its context) with the engine's own frontend, its times
//!   fixed (SOURCE_DATE_EPOCH=0, rewrite-timestamp) so its digest does not change;
//! - `{busybox-digest}`: the digest of the engine's busybox stand-in (made when hack/engine-up
//!   imported it), which conversions and configs name as `{busybox-digest}` and
//!   `{busybox-layer}` (its layer) in turn.
//!
//! The servers listen on loopback: the engine's BuildKit fetches git and http sources from its
//! own network namespace, the host's, as does a standalone buildkitd run on this machine
//! (hack/remote-buildkit-up). buildx sends `{case}` directories and the OCI layout from the
//! client through the build's session, whichever builder runs it.

use std::path::{Path, PathBuf};

use super::docker::{buildx_build, copy_context, standin_placeholders, tail};
use super::serve::{make_tagged_repo, HttpServer, LoopbackServer};

/// The inputs of one case; the servers stop when it is dropped.
pub struct Inputs {
    work: PathBuf,
    case_copy: PathBuf,
    git: Option<LoopbackServer>,
    git_http: Option<HttpServer>,
    http: Option<HttpServer>,
    oci: Option<(PathBuf, String)>,
    /// The stand-in base image's digests and their words (`docker::standin_placeholders`).
    standin: Vec<(String, String)>,
}

impl Inputs {
    /// Copies the case and starts what its folders ask for, all under `work`.
    pub fn prepare(case_dir: &Path, work: &Path) -> Result<Inputs, String> {
        let case_copy = work.join("case");
        std::fs::create_dir_all(&case_copy).map_err(|e| e.to_string())?;
        copy_context(case_dir, &case_copy);
        let mut inputs = Inputs {
            work: work.to_path_buf(),
            case_copy,
            git: None,
            git_http: None,
            http: None,
            oci: None,
            standin: standin_placeholders(),
        };
        if case_dir.join("git").is_dir() {
            let repos = work.join("repos");
            std::fs::create_dir_all(&repos).map_err(|e| e.to_string())?;
            make_tagged_repo(&case_dir.join("git"), &repos);
            inputs.git = Some(LoopbackServer::start(&repos).ok_or("git daemon did not start")?);
            inputs.git_http = Some(HttpServer::start(&repos).ok_or("no http server")?);
        }
        if case_dir.join("http").is_dir() {
            let server = HttpServer::start(&case_dir.join("http")).ok_or("no http server")?;
            inputs.http = Some(server);
        }
        if case_dir.join("oci").is_dir() {
            inputs.oci = Some(build_layout(&case_dir.join("oci"), &work.join("layout"))?);
        }
        Ok(inputs)
    }

    /// The folder everything of the case is made in.
    pub fn work(&self) -> &Path {
        &self.work
    }

    /// `flag` with its placeholders filled in.
    pub fn expand(&self, flag: &str) -> String {
        let mut flag = flag.replace("{case}", &self.case_copy.display().to_string());
        if let Some(git) = &self.git {
            flag = flag.replace("{git}", &format!("git://127.0.0.1:{}/repo.git", git.port));
        }
        if let Some(server) = &self.git_http {
            let remote = format!("http://127.0.0.1:{}/repo.git", server.port);
            flag = flag.replace("{git-http}", &remote);
        }
        if let Some(http) = &self.http {
            flag = flag.replace("{http}", &format!("http://127.0.0.1:{}", http.port));
        }
        if let Some((layout, digest)) = &self.oci {
            flag = flag.replace(
                "{oci}",
                &format!("oci-layout://{}@{digest}", layout.display()),
            );
        }
        for (digest, word) in &self.standin {
            flag = flag.replace(word, digest);
        }
        flag
    }

    /// What varies from run to run in a conversion, with the words that replace it.
    pub fn placeholders(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(git) = &self.git {
            out.push((format!("127.0.0.1:{}", git.port), "{git-host}".into()));
        }
        if let Some(server) = &self.git_http {
            out.push((
                format!("127.0.0.1:{}", server.port),
                "{git-http-host}".into(),
            ));
        }
        if let Some(http) = &self.http {
            out.push((format!("127.0.0.1:{}", http.port), "{http-host}".into()));
        }
        if let Some((_, digest)) = &self.oci {
            out.push((digest.clone(), "{oci-digest}".into()));
        }
        out.push((self.work.display().to_string(), "{work}".into()));
        out.extend(self.standin.iter().cloned());
        out
    }
}

/// An OCI layout at `dest` built from `dir` with the engine's built-in frontend; its digest.
fn build_layout(dir: &Path, dest: &Path) -> Result<(PathBuf, String), String> {
    let out = buildx_build()
        .args(["--build-arg", "SOURCE_DATE_EPOCH=0"])
        .arg(format!(
            "--output=type=oci,tar=false,rewrite-timestamp=true,dest={}",
            dest.display()
        ))
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "OCI layout build: {}",
            tail(&String::from_utf8_lossy(&out.stderr))
        ));
    }
    Ok((dest.to_path_buf(), super::oci::top_digest(dest)?))
}
